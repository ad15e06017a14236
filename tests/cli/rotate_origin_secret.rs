//! `rotate-origin-secret` end to end (issue 23, item 6): the default stack
//! with the real regional proxy as its ECS task (the emulator runs the
//! binary from the task definition, its `secrets` resolved from Secrets
//! Manager, and rolls the ALB's target with each rollout). A load of viewer
//! requests through the local edge, every one a cache miss that reaches
//! the proxy, runs through two rotations (the second killed at two phases
//! and resumed) and sees only 200s with the right frame. Afterwards boto3
//! says where each value is, and the old value is refused by the ALB rule
//! (plain HTTP to the ALB by its DNS name) and by the proxy (called
//! directly). The value is never in the output at -vv, nor in the lockfile.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::emulator::Emulator;
use crate::stack::Stack;

const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ahi-regional-proxy:0.1.0";
// The templates' example data store: the profile's `[healthimaging] datastores`.
const DATASTORE: &str = "dddddddddddddddddddddddddddddddd";
const IMAGE_SET: &str = "15151515151515151515151515151515";
const FRAMES: usize = 6;

fn frame_id(i: usize) -> String {
    format!("{:0>32}", format!("f{i}"))
}

/// Each frame's bytes name the frame, so a wrong answer cannot pass.
fn frame_bytes(i: usize) -> String {
    format!("frame {};", frame_id(i)).repeat(40)
}

fn frame_path(i: usize) -> String {
    format!(
        "/datastore/{DATASTORE}/imageSet/{IMAGE_SET}/getImageFrame?imageFrameId={}",
        frame_id(i)
    )
}

/// The proxy binary `cargo test --workspace` builds beside ahi-edge.
fn proxy_binary() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_ahi-edge")).with_file_name("ahi-regional-proxy");
    assert!(
        bin.is_file(),
        "{} is missing: build it first (`cargo build -p ahi-regional-proxy`; ./scripts/test does)",
        bin.display()
    );
    bin
}

/// The image set the frames belong to, and the proxy as the tasks of any
/// service running the profile's image (its task role: throwaway keys the
/// emulator's HealthImaging knows).
fn prepare(emu: &Emulator) {
    let frames: serde_json::Map<String, Value> = (0..FRAMES)
        .map(|i| (frame_id(i), Value::from(frame_bytes(i))))
        .collect();
    emu.boto3(&format!(
        "import base64, urllib.request\n\
         frames = {{k: base64.b64encode(v.encode()).decode() for k, v in {frames}.items()}}\n\
         doc = {{'region': 'us-east-1', 'datastore_id': '{DATASTORE}', 'image_set_id': '{IMAGE_SET}', 'version': '1', 'frames': frames}}\n\
         req = urllib.request.Request(os.environ['AHI_EMULATOR'] + '/_ahi/healthimaging/image-sets', method='POST',\n    \
             headers={{'Content-Type': 'application/json'}}, data=json.dumps(doc).encode())\n\
         urllib.request.urlopen(req).read()\n\
         print('null')",
        frames = Value::Object(frames)
    ));
    emu.control(
        "POST",
        "/_ahi/ecs/runners",
        Some(&json!({
            "image": IMAGE,
            "command": [proxy_binary().display().to_string()],
            "environment": {
                "AHI_ENDPOINT": emu.endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_EC2_METADATA_DISABLED": "true",
            },
        })),
    );
}

/// Where each value is, as AWS says it (boto3): the secret's versions and
/// labels, the rule's header values, the distribution's origin header.
fn seen(stack: &Stack) -> Value {
    let n = &stack.name;
    stack.emu.boto3(&format!(
        "import re\n\
         lock = open('{lock}').read()\n\
         def recorded(id, key):\n    \
             return re.search(r'\\[resources.' + id + r'\\][^\\[]*' + key + r' = \"([^\"]+)\"', lock).group(1)\n\
         sm = client('secretsmanager')\n\
         name = 'ahi-edge/{n}/origin-header'\n\
         versions = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)['Versions']\n\
         values = {{v['VersionId']: sm.get_secret_value(SecretId=name, VersionId=v['VersionId'])['SecretString'] for v in versions}}\n\
         stages = {{v['VersionId']: sorted(v.get('VersionStages', [])) for v in versions}}\n\
         current = sm.get_secret_value(SecretId=name)\n\
         rule = client('elbv2').describe_rules(RuleArns=[recorded('listener_rule', 'arn')])['Rules'][0]\n\
         header = [c['HttpHeaderConfig'] for c in rule['Conditions'] if c['Field'] == 'http-header'][0]\n\
         config = client('cloudfront').get_distribution_config(Id=recorded('distribution', 'physical_id'))['DistributionConfig']\n\
         sent = [h['HeaderValue'] for o in config['Origins']['Items'] for h in o.get('CustomHeaders', {{}}).get('Items', [])]\n\
         lb = client('elbv2').describe_load_balancers(Names=['{n}-alb'])['LoadBalancers'][0]['DNSName']\n\
         domain = client('cloudfront').get_distribution(Id=recorded('distribution', 'physical_id'))['Distribution']['DomainName']\n\
         group = client('elbv2').describe_target_groups(Names=['{n}-tg'])['TargetGroups'][0]['TargetGroupArn']\n\
         print(json.dumps({{'current': current['SecretString'], 'current_version': current['VersionId'], 'values': values,\n    \
             'stages': stages, 'rule_header': header['HttpHeaderName'], 'rule_values': sorted(header['Values']),\n    \
             'sent': sent, 'alb': lb, 'domain': domain, 'target_group': group}}))",
        lock = stack.path().join("profile.lock").display(),
    ))
}

/// One plain HTTP/1.0 GET (no chunked answer to decode) to `base`
/// (http://127.0.0.1:PORT, or the emulator with a Host): status and body.
fn get(base: &str, host: Option<&str>, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {}\r\n{extra}\r\n",
        host.unwrap_or(address)
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

/// The load: viewer requests through the local edge until told to stop,
/// the edge cache emptied before each so every one reaches the proxy.
/// Returns every answer that was not the right frame, and the count.
fn load(emu: &Emulator, domain: &str, token: &str, stop: &AtomicBool) -> (Vec<String>, usize) {
    let auth = format!("Bearer {token}");
    let (mut wrong, mut count) = (Vec::new(), 0);
    let deadline = Instant::now() + Duration::from_secs(600);
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        let i = count % FRAMES;
        emu.control("DELETE", "/_ahi/edge/cache", None);
        let (status, body) = emu.viewer(domain, "GET", &frame_path(i), &[("Authorization", &auth)]);
        if status != 200 || body != frame_bytes(i) {
            wrong.push(format!(
                "request {count} (frame {i}): {status} {}",
                &body[..body.len().min(120)]
            ));
        }
        count += 1;
    }
    (wrong, count)
}

struct Stop<'a>(&'a AtomicBool);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn assert_rotated(stack: &Stack, before: &Value) -> Value {
    let after = seen(stack);
    let (old, new) = (
        before["current"].as_str().unwrap(),
        after["current"].as_str().unwrap(),
    );
    assert_ne!(old, new, "a new value: before {before}\nafter {after}");
    assert_eq!(after["rule_header"], "X-Custom-Header");
    assert_eq!(
        after["rule_values"],
        json!([new]),
        "the rule accepts only the new value"
    );
    assert_eq!(after["sent"], json!([new]), "CloudFront sends the new value");
    let old_version = before["current_version"].as_str().unwrap();
    assert_eq!(
        after["stages"][old_version],
        json!([]),
        "the old version is retired (no label): {after}"
    );
    assert_eq!(
        after["stages"][after["current_version"].as_str().unwrap()],
        json!(["AWSCURRENT"])
    );
    // The ALB by its DNS name, as anyone may reach it: the old value gets the
    // listener's default answer; the new one is forwarded.
    let alb = after["alb"].as_str().unwrap();
    let endpoint = &stack.emu.endpoint;
    let path = frame_path(0);
    assert_eq!(
        get(endpoint, Some(alb), &path, &[("X-Custom-Header", old)]),
        (403, "Access denied".to_string())
    );
    assert_eq!(
        get(endpoint, Some(alb), &path, &[("X-Custom-Header", new)]),
        (200, frame_bytes(0))
    );
    // The proxy itself (the ALB's current target), called directly.
    let targets = stack.emu.control("GET", "/_ahi/edge/targets", None);
    let proxy = targets[after["target_group"].as_str().unwrap()]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = get(&proxy, None, &path, &[("X-Custom-Header", old)]);
    assert_eq!((status, body.as_str()), (403, "{\"message\":\"Forbidden\"}"));
    assert_eq!(get(&proxy, None, &path, &[]).0, 403);
    assert_eq!(
        get(&proxy, None, &path, &[("X-Custom-Header", new)]),
        (200, frame_bytes(0))
    );
    assert_eq!(get(&proxy, None, "/healthcheck", &[]).0, 200);
    after
}

/// Two rotations (the second killed at two phases and resumed), each
/// checked with boto3; every output and lockfile seen, and each state.
fn rotate_twice(stack: &Stack, first: &Value) -> (Vec<String>, [Value; 3]) {
    // One rotation, at -vv with --json.
    let run = stack.run(&["-vv", "--json", "rotate-origin-secret"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["complete"], true);
    assert_eq!(
        report["phases"],
        json!([
            "new-version",
            "rule-both",
            "proxy-both",
            "distribution",
            "rule-new",
            "proxy-new",
            "retire"
        ])
    );
    let second = assert_rotated(stack, first);
    let mut outputs = vec![run.stdout, run.stderr, stack.lockfile().unwrap()];

    // `up` after it changes nothing: the rotation left the specs `up` builds.
    let since = stack.last_seq();
    let up = stack.up();
    assert_eq!(stack.writes_since(since), Vec::<String>::new(), "{}", up.stdout);

    // A second rotation, killed once the service update was sent and
    // once the distribution update was: each re-run resumes.
    assert!(stack.kill_at(&["rotate-origin-secret"], "UpdateService"));
    let lock = stack.lockfile().unwrap();
    assert!(
        lock.contains("[rotation]") && lock.contains("phase = \"proxy-both\""),
        "{lock}"
    );
    let refused = stack.run(&["up"]);
    assert_eq!(refused.code, 2, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused
            .stderr
            .contains("records an origin secret rotation in progress")
            && refused.stderr.contains("next: `ahi-edge rotate-origin-secret"),
        "{}",
        refused.stderr
    );
    let (_, status) = stack.json(&["status"]);
    assert_eq!(status["rotation"]["phase"], "proxy-both", "{status}");
    assert!(stack.kill_at(&["rotate-origin-secret"], "UpdateDistribution"));
    let lock = stack.lockfile().unwrap();
    assert!(lock.contains("phase = \"distribution\""), "{lock}");
    let resumed = stack.run(&["-vv", "rotate-origin-secret"]);
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    assert!(
        resumed.stderr.contains("resuming the rotation"),
        "{}",
        resumed.stderr
    );
    let third = assert_rotated(stack, &second);
    let (code, status) = stack.json(&["-vv", "status"]);
    assert_eq!((code, &status["rotation"]), (0, &Value::Null), "{status}");
    outputs.extend([
        resumed.stdout,
        resumed.stderr,
        stack.lockfile().unwrap(),
        status.to_string(),
    ]);
    (outputs, [first.clone(), second, third])
}

#[test]
fn rotations_under_load_refuse_nothing_then_refuse_the_old_value_everywhere() {
    // Its own emulator: the proxy runner serves every service of its image.
    let emu = &Emulator::start();
    prepare(emu);
    let who = crate::shared_cache::viewers(emu);
    let stack = Stack::new(
        emu,
        "ahi-delivery",
        "t-rotate",
        &[
            ("us-east-1_Ab12Cd34E", who["pool"].as_str().unwrap()),
            ("4fr9qmc1oba52s6hrfl5hntu2u", who["client"].as_str().unwrap()),
        ],
    );
    stack.up();
    let first = seen(&stack);
    let domain = first["domain"].as_str().unwrap().to_string();
    let token = who["tokens"][0].as_str().unwrap().to_string();
    // Before: the proxy already refuses a request without the header.
    let targets = emu.control("GET", "/_ahi/edge/targets", None);
    let proxy = targets[first["target_group"].as_str().unwrap()]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(get(&proxy, None, &frame_path(1), &[]).0, 403);

    let stop = AtomicBool::new(false);
    let (outcome, (wrong, count)) = std::thread::scope(|s| {
        let loader = s.spawn(|| load(emu, &domain, &token, &stop));
        // The load stops however the steps below end (a failed assertion too).
        let _stop = Stop(&stop);
        let outcome = rotate_twice(&stack, &first);
        drop(_stop);
        (outcome, loader.join().unwrap())
    });
    assert!(
        wrong.is_empty(),
        "{} of {count} requests were refused or wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(count >= 20, "only {count} requests ran during the rotations");

    // No value, of any version, in any output or the lockfile.
    let (outputs, states) = outcome;
    let mut secrets: Vec<String> = Vec::new();
    for state in &states {
        for value in state["values"].as_object().unwrap().values() {
            secrets.push(value.as_str().unwrap().to_string());
        }
    }
    assert!(secrets.len() >= 3, "{secrets:?}");
    for text in &outputs {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret value was printed or recorded"
            );
        }
    }
    let down = stack.run(&["down", "--wait-replicas", "--purge-logs", "--yes"]);
    assert_eq!(down.code, 0, "{}\n{}", down.stdout, down.stderr);
}
