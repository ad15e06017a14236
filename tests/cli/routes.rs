//! Routes: one domain, many origins. The `reverse-proxy` template's layout
//! (two HTTP APIs on loopback servers this test starts, a private bucket, a
//! public website bucket, a private-bucket SPA at the default route) is
//! deployed by the real binary, then checked with plain HTTP through the
//! emulator's local edge (which runs the generated CloudFront Functions
//! under node and reads the buckets as CloudFront's service principal) and
//! with boto3. The ordering rules are read from the emulator's call log.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use ahi_edge::iam_policy::{action_for, allows};

use crate::emulator::Emulator;
use crate::stack::Stack;

const ACK: &str = "I understand encryption in transit is disabled between CloudFront and this origin";

/// A loopback HTTP API: answers `<name> <METHOD> <target>`, 404 for paths
/// with `missing` in them (its own 404, which must reach the viewer).
struct Api {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

fn api(name: &'static str) -> Api {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || answer(name, stream, &log));
        }
    });
    Api { port, seen }
}

fn answer(name: &str, stream: TcpStream, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        if let Some((k, v)) = header.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    log.lock().unwrap().push(format!("{method} {target}"));
    let status = if target.contains("missing") {
        "404 Not Found"
    } else {
        "200 OK"
    };
    let text = format!("{name} {method} {target}");
    let mut stream = reader.into_inner();
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nCache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

/// The template, its APIs on loopback servers and its buckets named for the test.
fn layout<'a>(emu: &'a Emulator, name: &str, apis: (&Api, &Api)) -> Stack<'a> {
    let http = |host: &str, port: u16| {
        format!(
            "domain = \"{host}.localhost\"\nprotocol = \"http\"\ninsecure_http_acknowledgement = \"{ACK}\"\nhttp_port = {port}"
        )
    };
    Stack::new(
        emu,
        "reverse-proxy",
        name,
        &[
            ("domain = \"api.example.com\"", &http("api", apis.0.port)),
            ("domain = \"stac.example.com\"", &http("stac", apis.1.port)),
            (
                "bucket = \"example-storage\"",
                &format!("bucket = \"{name}-storage\""),
            ),
            (
                "bucket = \"example-thumbnails\"",
                &format!("bucket = \"{name}-thumbs\""),
            ),
            ("bucket = \"example-app\"", &format!("bucket = \"{name}-app\"")),
        ],
    )
}

/// The user's buckets as they are before `up`: the storage bucket already
/// has a foreign statement; the website bucket is public.
fn buckets(emu: &Emulator, name: &str) -> Value {
    emu.boto3(&format!(
        "s3 = client('s3')\n\
         for b in ('{name}-storage', '{name}-thumbs', '{name}-app', '{name}-extra'):\n    \
             s3.create_bucket(Bucket=b)\n\
         s3.put_public_access_block(Bucket='{name}-storage', PublicAccessBlockConfiguration={{'BlockPublicAcls': True,\n    \
             'IgnorePublicAcls': True, 'BlockPublicPolicy': True, 'RestrictPublicBuckets': True}})\n\
         s3.put_bucket_policy(Bucket='{name}-storage', Policy=json.dumps({{'Version': '2012-10-17', 'Statement': [{{\n    \
             'Sid': 'TheirAuditRead', 'Effect': 'Allow', 'Principal': {{'AWS': 'arn:aws:iam::123456789012:role/audit'}},\n    \
             'Action': 's3:GetObject', 'Resource': 'arn:aws:s3:::{name}-storage/audit/*'}}]}}))\n\
         s3.put_object(Bucket='{name}-storage', Key='reports/q3.pdf', Body=b'q3 report')\n\
         s3.put_bucket_policy(Bucket='{name}-thumbs', Policy=json.dumps({{'Version': '2012-10-17', 'Statement': [{{\n    \
             'Sid': 'PublicRead', 'Effect': 'Allow', 'Principal': '*', 'Action': 's3:GetObject',\n    \
             'Resource': 'arn:aws:s3:::{name}-thumbs/*'}}]}}))\n\
         s3.put_bucket_website(Bucket='{name}-thumbs', WebsiteConfiguration={{'IndexDocument': {{'Suffix': 'index.html'}}}})\n\
         s3.put_object(Bucket='{name}-thumbs', Key='thumbnails/a.png', Body=b'png-a', ContentType='image/png')\n\
         s3.put_object(Bucket='{name}-app', Key='index.html', Body=b'<html>spa</html>', ContentType='text/html')\n\
         s3.put_object(Bucket='{name}-app', Key='assets/app.js', Body=b'console.log(1)')\n\
         s3.put_object(Bucket='{name}-extra', Key='x.txt', Body=b'extra x')\n\
         print('null')"
    ));
    policies(emu, name)
}

/// Each bucket's policy (parsed), or null when it has none.
fn policies(emu: &Emulator, name: &str) -> Value {
    emu.boto3(&format!(
        "s3 = client('s3')\n\
         out = {{}}\n\
         for b in ('{name}-storage', '{name}-thumbs', '{name}-app', '{name}-extra'):\n    \
             try:\n        \
                 out[b] = json.loads(s3.get_bucket_policy(Bucket=b)['Policy'])\n    \
             except s3.exceptions.ClientError as e:\n        \
                 assert e.response['Error']['Code'] == 'NoSuchBucketPolicy', e\n        \
                 out[b] = None\n\
         print(json.dumps(out))"
    ))
}

fn domain(stack: &Stack) -> String {
    let (code, out) = stack.json(&["outputs"]);
    assert_eq!(code, 0, "{out}");
    out["distribution_domain"].as_str().unwrap().to_string()
}

fn position(ops: &[String], op: &str) -> usize {
    ops.iter()
        .position(|o| o == op)
        .unwrap_or_else(|| panic!("no {op} in {ops:?}"))
}

/// The (service, operation) pairs of the calls since `after`: what one
/// ahi-edge command asked of AWS.
fn operations(stack: &Stack, after: u64) -> BTreeSet<(String, String)> {
    stack
        .calls_since(after)
        .iter()
        .filter_map(|c| {
            Some((
                c["service"].as_str()?.to_string(),
                c["operation"].as_str()?.to_string(),
            ))
        })
        .collect()
}

#[test]
fn the_reverse_proxy_layout_serves_each_route_from_its_origin_and_down_restores_the_buckets() {
    // Its own emulator: the test reads the call log.
    let emu = &Emulator::start();
    let (api_server, stac_server) = (api("api"), api("stac"));
    let name = "t-routes";
    let before = buckets(emu, name);
    let stack = layout(emu, name, (&api_server, &stac_server));
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 4, "{plan}");
    assert_eq!(plan["routes"].as_array().map(Vec::len), Some(5), "{plan}");
    let (_, policy) = stack.json(&["iam-policy"]);
    let start = stack.last_seq();
    stack.up();
    let mut called = operations(&stack, start);

    // Ordering on a new distribution: functions published before the
    // distribution names them; grants right after its id exists.
    let ops = stack.writes_since(start);
    let create = position(&ops, "CreateDistributionWithTags");
    assert_eq!(
        ops.iter().filter(|o| *o == "CreateFunction").count(),
        4,
        "{ops:?}"
    );
    assert_eq!(
        ops.iter().filter(|o| *o == "PublishFunction").count(),
        4,
        "{ops:?}"
    );
    let last_publish = ops.iter().rposition(|o| o == "PublishFunction").unwrap();
    assert!(last_publish < create, "{ops:?}");
    assert!(position(&ops, "CreateOriginAccessControl") < create, "{ops:?}");
    let grants: Vec<usize> = (0..ops.len()).filter(|i| ops[*i] == "PutBucketPolicy").collect();
    assert_eq!(grants.len(), 2 + 1, "two grants and the log bucket: {ops:?}");
    assert!(grants.iter().filter(|i| **i > create).count() >= 2, "{ops:?}");

    let d = domain(&stack);
    let cases: &[(&str, &str, u16, &str)] = &[
        ("GET", "/api/users?x=1", 200, "api GET /users?x=1"),
        ("GET", "/api/missing", 404, "api GET /missing"),
        ("POST", "/api/items", 200, "api POST /items"),
        ("GET", "/stac/collections", 200, "stac GET /collections"),
        ("GET", "/storage/reports/q3.pdf", 200, "q3 report"),
        ("GET", "/thumbnails/a.png", 200, "png-a"),
        ("GET", "/dashboard/42", 200, "<html>spa</html>"),
        ("GET", "/", 200, "<html>spa</html>"),
        ("GET", "/api", 200, "<html>spa</html>"),
        ("GET", "/assets/app.js", 200, "console.log(1)"),
    ];
    for (method, path, status, body) in cases {
        let (got, text) = emu.viewer(&d, method, path, &[]);
        assert_eq!((got, text.as_str()), (*status, *body), "{method} {path}");
        // The evaluator said the same, offline.
        let (_, said) = stack.json(&["routes", "test", &format!("{method} {path}")]);
        let origin_uri = said["decisions"][0]["origin_uri"].as_str().unwrap().to_string();
        if body.starts_with("api") || body.starts_with("stac") {
            assert!(body.ends_with(&origin_uri), "{path}: {said}");
        }
    }
    // A private bucket's missing key is 403 (no listing granted), not the SPA.
    assert_eq!(emu.viewer(&d, "GET", "/assets/missing.js", &[]).0, 403);
    assert_eq!(emu.viewer(&d, "GET", "/storage/none.pdf", &[]).0, 403);
    // Buckets refuse a direct request, and a request from another distribution.
    let refused = emu.boto3(&format!(
        "import urllib.request, urllib.error, time\n\
         def status(url, host=None):\n    \
             req = urllib.request.Request(url, headers={{'Host': host}} if host else {{}})\n    \
             try:\n        \
                 return urllib.request.urlopen(req).status\n    \
             except urllib.error.HTTPError as e:\n        \
                 return e.code\n\
         endpoint = os.environ['AHI_EMULATOR']\n\
         direct = status(endpoint + '/{name}-storage/reports/q3.pdf')\n\
         cf = client('cloudfront')\n\
         oac = cf.create_origin_access_control(OriginAccessControlConfig={{'Name': 'intruder', 'SigningProtocol': 'sigv4',\n    \
             'SigningBehavior': 'always', 'OriginAccessControlOriginType': 's3'}})['OriginAccessControl']['Id']\n\
         other = cf.create_distribution(DistributionConfig={{'CallerReference': 'intruder', 'Comment': 'intruder', 'Enabled': True,\n    \
             'Origins': {{'Quantity': 1, 'Items': [{{'Id': 's', 'DomainName': '{name}-storage.s3.us-east-1.amazonaws.com',\n        \
             'S3OriginConfig': {{'OriginAccessIdentity': ''}}, 'OriginAccessControlId': oac}}]}},\n    \
             'DefaultCacheBehavior': {{'TargetOriginId': 's', 'ViewerProtocolPolicy': 'allow-all',\n        \
             'CachePolicyId': '4135ea2d-6df8-44a3-9df3-4b5a84be39ad'}}}})['Distribution']\n\
         host, port = endpoint.split('//')[1].split(':')\n\
         via_other = status(f'http://{{host}}:{{port}}/reports/q3.pdf', other['DomainName'])\n\
         print(json.dumps([direct, via_other]))"
    ));
    assert_eq!(refused, json!([403, 403]), "direct, another distribution");
    // The grant is one statement of ours, beside the foreign one.
    let during = policies(emu, name);
    let storage = during[format!("{name}-storage")]["Statement"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(storage.len(), 2, "{storage:?}");
    assert_eq!(storage[0], before[format!("{name}-storage")]["Statement"][0]);
    assert_eq!(
        storage[1]["Principal"],
        json!({"Service": "cloudfront.amazonaws.com"})
    );
    assert!(
        storage[1]["Condition"]["StringEquals"]["AWS:SourceArn"]
            .as_str()
            .unwrap()
            .contains(":distribution/")
    );
    assert_eq!(during[format!("{name}-thumbs")], before[format!("{name}-thumbs")]);

    // status shows the applied route table, from the lockfile alone.
    let (code, status) = stack.json(&["status"]);
    assert_eq!(code, 0, "{status}");
    let rows: Vec<(&str, &str, &str)> = status["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap(),
                r["origin"].as_str().unwrap(),
                r["origin_kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("/api/*", "api", "http"),
            ("/stac/*", "stac", "http"),
            ("/storage/*", "storage", "s3"),
            ("/thumbnails/*", "thumbnails", "s3_website"),
            ("*", "app", "s3")
        ]
    );

    // Nothing changed: no write at all.
    let again = stack.last_seq();
    stack.up();
    assert_eq!(stack.writes_since(again), Vec::<String>::new());

    // A rewrite changes: the function is republished, the distribution untouched.
    stack.edit("strip_prefix = \"/stac\"", "strip_prefix = \"/stac/\"");
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 4, "{plan}");
    let changed: Vec<&Value> = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] != "unchanged")
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["deploy"], "function publish (seconds)", "{changed:?}");
    let t = stack.last_seq();
    stack.up();
    called.extend(operations(&stack, t));
    assert_eq!(stack.writes_since(t), ["UpdateFunction", "PublishFunction"]);
    assert_eq!(emu.viewer(&d, "GET", "/stac/items", &[]).1, "stac GET /items");

    // A new route to another private bucket: its grant before the update
    // that starts routing there.
    stack.edit(
        "[[routes]]\npath = \"/thumbnails/*\"",
        &format!(
            "[[routes]]\npath = \"/extra/*\"\norigin = \"extra\"\nstrip_prefix = \"/extra\"\n\n\
             [origins.extra]\nkind = \"s3\"\nbucket = \"{name}-extra\"\n\n[[routes]]\npath = \"/thumbnails/*\""
        ),
    );
    let t = stack.last_seq();
    stack.up();
    called.extend(operations(&stack, t));
    let ops = stack.writes_since(t);
    assert!(
        position(&ops, "PutBucketPolicy") < position(&ops, "UpdateDistribution"),
        "{ops:?}"
    );
    assert_eq!(emu.viewer(&d, "GET", "/extra/x.txt", &[]).1, "extra x");

    // Two routes removed: one distribution update, deployed, then their
    // function and grant go.
    stack.edit(
        "[[routes]]\npath = \"/extra/*\"\norigin = \"extra\"\nstrip_prefix = \"/extra\"\n",
        "",
    );
    stack.edit(
        &format!("[origins.extra]\nkind = \"s3\"\nbucket = \"{name}-extra\"\n"),
        "",
    );
    stack.edit(
        "[[routes]]\npath = \"/stac/*\"\norigin = \"stac\"\nstrip_prefix = \"/stac/\"\nbare_path = \"elsewhere\"\n",
        "",
    );
    stack.edit(
        "[origins.stac]\nkind = \"http\"\n",
        "[origins.stac]\nkind = \"http\"\n# unused now\n",
    );
    let t = stack.last_seq();
    stack.up();
    called.extend(operations(&stack, t));
    let calls = stack.calls_since(t);
    let ops: Vec<String> = calls
        .iter()
        .filter_map(|c| c["operation"].as_str().map(str::to_string))
        .collect();
    let update = position(&ops, "UpdateDistribution");
    assert_eq!(
        ops.iter().filter(|o| *o == "UpdateDistribution").count(),
        1,
        "{ops:?}"
    );
    let deployed = update + ops[update..].iter().position(|o| o == "GetDistribution").unwrap();
    assert!(deployed < position(&ops, "DeleteFunction"), "{ops:?}");
    assert!(
        update < position(&ops, "DeleteBucketPolicy"),
        "the extra bucket had no policy: {ops:?}"
    );
    // No such route now: the default route's private bucket has no such key.
    assert_eq!(emu.viewer(&d, "GET", "/extra/x.txt", &[]).0, 403);
    assert_eq!(policies(emu, name)[format!("{name}-extra")], Value::Null);

    // down: no CloudFront resource of ours, bucket policies as before `up`.
    let t = stack.last_seq();
    let run = stack.run(&["down", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    called.extend(operations(&stack, t));
    assert_eq!(stack.cloudfront_held(), BTreeMap::new());
    assert_eq!(policies(emu, name), before);

    // The printed policy allowed every call of this lifecycle.
    let refused: Vec<String> = called
        .iter()
        .filter(|(service, op)| match action_for(service, op) {
            None => true,
            Some(action) => !action.is_empty() && !allows(&policy, action),
        })
        .map(|(service, op)| format!("{service} {op}"))
        .collect();
    assert!(refused.is_empty(), "not in the printed policy: {refused:?}");
}

#[test]
fn a_routes_up_killed_at_three_points_converges() {
    let emu = &Emulator::start();
    let (api_server, stac_server) = (api("api"), api("stac"));
    let name = "t-routes-kill";
    let before = buckets(emu, name);
    let stack = layout(emu, name, (&api_server, &stac_server));
    for operation in ["PublishFunction", "CreateDistributionWithTags", "PutBucketPolicy"] {
        assert!(stack.kill_at(&["up"], operation), "up ended before {operation}");
    }
    stack.up();
    let held = stack.cloudfront_held();
    assert_eq!(held.get("distribution"), Some(&1), "{held:?}");
    assert_eq!(held.get("function"), Some(&4), "{held:?}");
    assert_eq!(held.get("OriginAccessControl"), Some(&1), "{held:?}");
    let again = stack.last_seq();
    stack.up();
    assert_eq!(stack.writes_since(again), Vec::<String>::new());
    let d = domain(&stack);
    assert_eq!(
        emu.viewer(&d, "GET", "/storage/reports/q3.pdf", &[]).1,
        "q3 report"
    );
    let storage = &policies(emu, name)[format!("{name}-storage")]["Statement"];
    assert_eq!(storage.as_array().map(Vec::len), Some(2), "one grant: {storage}");
    let run = stack.run(&["down", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(stack.cloudfront_held(), BTreeMap::new());
    assert_eq!(policies(emu, name), before);
}

#[test]
fn on_a_healthimaging_profile_the_frames_route_keeps_the_authorizer_and_the_spa_does_not() {
    let emu = &Emulator::start();
    let who = crate::shared_cache::viewers(emu);
    let name = "t-hi-routes";
    let _ = buckets(emu, name);
    let routes = format!(
        "\n[origins.app]\nkind = \"s3\"\nbucket = \"{name}-app\"\n\n\
         [[routes]]\npath = \"/datastore/*\"\norigin = \"healthimaging\"\n\n\
         [[routes]]\npath = \"*\"\norigin = \"app\"\nspa = true\n"
    );
    let stack = Stack::new(
        emu,
        "ahi-delivery",
        name,
        &[
            ("us-east-1_Ab12Cd34E", who["pool"].as_str().unwrap()),
            ("4fr9qmc1oba52s6hrfl5hntu2u", who["client"].as_str().unwrap()),
        ],
    );
    let text = std::fs::read_to_string(stack.path().join("profile.toml")).unwrap();
    std::fs::write(stack.path().join("profile.toml"), text + &routes).unwrap();
    stack.up();
    // The proxy: a loopback server registered as the ALB's target.
    let proxy = api("proxy");
    let group = emu.boto3(&format!(
        "print(json.dumps(client('elbv2').describe_target_groups(Names=['{name}-tg'])['TargetGroups'][0]['TargetGroupArn']))"
    ));
    emu.control(
        "POST",
        "/_ahi/edge/targets",
        Some(&json!({"target_group_arn": group, "url": format!("http://127.0.0.1:{}", proxy.port)})),
    );
    let d = domain(&stack);
    let frame = format!(
        "/datastore/{}/imageSet/{}/getImageFrame?imageFrameId={}",
        "d".repeat(32),
        "1".repeat(32),
        "f".repeat(32)
    );
    assert_eq!(
        emu.viewer(&d, "GET", &frame, &[]).0,
        401,
        "no token: the authorizer answers"
    );
    assert_eq!(
        emu.viewer(&d, "GET", "/viewer/study/7", &[]),
        (200, "<html>spa</html>".into())
    );
    let token = who["tokens"][0].as_str().unwrap();
    let bearer = format!("Bearer {token}");
    let (status, body) = emu.viewer(&d, "GET", &frame, &[("Authorization", &bearer)]);
    assert_eq!(status, 200, "{body}");
    assert!(body.ends_with(&format!("proxy GET {frame}")), "{body}");
    assert_eq!(proxy.seen.lock().unwrap().len(), 1);
    let run = stack.run(&["down", "--wait-replicas", "--purge-logs", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// Every generated function, run under node as CloudFront runs it, agrees
/// with the Rust evaluator on a corpus of requests.
#[test]
fn generated_functions_agree_with_the_rust_evaluator() {
    use ahi_edge::routes::Transform;
    let transforms = [
        (Some("/api"), None),
        (Some("/api/"), None),
        (Some("/stac"), None),
        (None, Some("/index.html")),
        (Some("/app"), Some("/index.html")),
        (Some("/a/b"), Some("/shell.html")),
        (Some("/q\"uote"), None),
    ];
    let paths = [
        "/",
        "/api",
        "/api/",
        "/api/users",
        "/api/users/42",
        "/api/v2/x.json",
        "/apiv2/x",
        "/stac/collections",
        "/app",
        "/app/",
        "/app/settings",
        "/app/main.css",
        "/a/b/c",
        "/a/b",
        "/a/bc.d/e",
        "/dashboard/42",
        "/assets/app.js",
        "/x.y/z",
        "/.well-known/acme",
        "/q\"uote/x",
        "/%7Euser/a",
        "/UPPER/Case",
    ];
    let methods = ["GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE"];
    let mut checked = 0;
    for (strip, spa) in transforms {
        let t = Transform {
            strip_prefix: strip.map(str::to_string),
            spa_index: spa.map(str::to_string),
            healthimaging: None,
        };
        let cases: Vec<(&str, &str)> = methods
            .iter()
            .flat_map(|m| paths.iter().map(move |p| (*m, *p)))
            .collect();
        let input = json!({
            "code": t.code(),
            "cases": cases.iter().map(|(m, p)| json!({"method": m, "uri": p})).collect::<Vec<_>>(),
        });
        let mut node = Command::new("node")
            .arg("-e")
            .arg(
                "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{\
                 const {code,cases}=JSON.parse(s);\
                 const handler=new Function(code+'\\nreturn handler;')();\
                 console.log(JSON.stringify(cases.map(c=>handler({version:'1.0',context:{eventType:'viewer-request'},\
                 viewer:{ip:'127.0.0.1'},request:{method:c.method,uri:c.uri,querystring:{},headers:{},cookies:{}}}).uri)));});",
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node");
        node.stdin
            .take()
            .unwrap()
            .write_all(input.to_string().as_bytes())
            .unwrap();
        let out = node.wait_with_output().unwrap();
        assert!(out.status.success());
        let got: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
        for ((method, path), uri) in cases.iter().zip(&got) {
            assert_eq!(uri, &t.apply(method, path), "{} on {method} {path}", t.describe());
            checked += 1;
        }
    }
    assert_eq!(checked, 7 * 22 * 6);
}

/// Every route kind changed out of band (with boto3): `plan` names each
/// field, `up` puts it back, and boto3 sees it back.
#[test]
fn out_of_band_changes_to_functions_grants_and_the_oac_are_found_and_repaired() {
    let emu = &Emulator::start();
    let (api_server, stac_server) = (api("api"), api("stac"));
    let name = "t-routes-oob";
    let before = buckets(emu, name);
    let stack = layout(emu, name, (&api_server, &stac_server));
    stack.up();
    let lock = stack.path().join("profile.lock");
    // The /api/* route's function: its rewrite is what a viewer would miss.
    let (_, table) = stack.json(&["routes", "show"]);
    let function = table["routes"][0]["functions"][0].as_str().unwrap().to_string();
    emu.boto3(&format!(
        "import re\n\
         lock = open('{lock}').read()\n\
         cf = client('cloudfront')\n\
         fn = '{function}'\n\
         etag = cf.describe_function(Name=fn)['ETag']\n\
         etag = cf.update_function(Name=fn, IfMatch=etag, FunctionConfig={{'Comment': 'ahi-edge stack {name}: changed by hand', 'Runtime': 'cloudfront-js-2.0'}},\n    \
             FunctionCode=b'function handler(event) {{ return event.request; }}')['ETag']\n\
         cf.publish_function(Name=fn, IfMatch=etag)\n\
         oac = re.search(r'\\[resources.origin_access_control\\][^\\[]*physical_id = \"([^\"]+)\"', lock).group(1)\n\
         got = cf.get_origin_access_control(Id=oac)\n\
         config = got['OriginAccessControl']['OriginAccessControlConfig']\n\
         config['SigningBehavior'] = 'never'\n\
         cf.update_origin_access_control(Id=oac, IfMatch=got['ETag'], OriginAccessControlConfig=config)\n\
         s3 = client('s3')\n\
         s3.put_bucket_policy(Bucket='{name}-storage', Policy=json.dumps(json.loads('{foreign}')))\n\
         print(json.dumps(fn))",
        lock = lock.display(),
        foreign = before[format!("{name}-storage")],
    ));
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 4, "{plan}");
    let mut changed: Vec<(String, String, Value)> = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] != "unchanged")
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["action"].as_str().unwrap().to_string(),
                r.get("fields").map_or(Value::Null, |f| {
                    let mut names: Vec<&str> = f
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap())
                        .collect();
                    names.sort();
                    json!(names)
                }),
            )
        })
        .collect();
    changed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        changed,
        [
            (
                "cloudfront-function".into(),
                "update".into(),
                json!(["code", "comment"])
            ),
            (
                "cloudfront-origin-access-control".into(),
                "update".into(),
                json!(["signing_behavior"])
            ),
            // Our statement is gone: found by its Sid, so written again.
            ("s3-bucket-grant".into(), "create".into(), json!(["missing live"])),
        ],
        "{plan}"
    );
    stack.up();
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 0, "repaired: {plan}");
    let d = domain(&stack);
    assert_eq!(
        emu.viewer(&d, "GET", "/api/users", &[]).1,
        "api GET /users",
        "the rewrite is back"
    );
    assert_eq!(
        emu.viewer(&d, "GET", "/storage/reports/q3.pdf", &[]).1,
        "q3 report",
        "the grant and signing are back"
    );
    let storage = &policies(emu, name)[format!("{name}-storage")]["Statement"];
    assert_eq!(storage.as_array().map(Vec::len), Some(2), "{storage}");
    let run = stack.run(&["down", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(stack.cloudfront_held(), BTreeMap::new());
    assert_eq!(policies(emu, name), before);
}
