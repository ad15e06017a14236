//! Each viewer reaches only the data stores it may, and nothing a viewer
//! sends changes what the edge caches (issue 23, "What to build" 1-3).
//!
//! The generated CloudFront Function (auth mode none) runs in the local
//! edge's own runtime against a table of requests. Then whole stacks go up
//! against the emulator with the real regional proxy as the ALB's target
//! (the task definition's environment, signing to the emulator's
//! HealthImaging), and viewers with real Cognito tokens go through the local
//! edge: data stores outside the profile are refused at the edge and by the
//! proxy, a Cognito group scopes a viewer to its data store, search is
//! refused unless enabled, and no poisoning probe ever makes a frame's
//! canonical URL answer another frame's bytes.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use ahi_edge::routes::Transform;
use ahi_edge::routes::scope_function::EdgeScope;

use crate::emulator::Emulator;
use crate::function_injection::{Case, run_in_edge_runtime};
use crate::stack::Stack;

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const C: &str = "cccccccccccccccccccccccccccccccc";
const SET: &str = "11111111111111111111111111111111";
const FRAME_A: &str = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0";
const FRAME_B: &str = "e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0";

fn frame_path(datastore: &str) -> String {
    format!("/datastore/{datastore}/imageSet/{SET}/getImageFrame")
}

// ---- the generated function, under node ---------------------------------

fn cff_event(method: &str, uri: &str, querystring: Value) -> Value {
    json!({
        "version": "1.0",
        "context": {"eventType": "viewer-request", "distributionId": "EDFDVBD6EXAMPLE", "requestId": "r1"},
        "viewer": {"ip": "198.51.100.7"},
        "request": {"method": method, "uri": uri, "querystring": querystring,
                    "headers": {"host": {"value": "d111111abcdef8.cloudfront.net"}}, "cookies": {}}
    })
}

/// (transform, method, uri, query as CloudFront presents it, the query
/// passed on or the status refused with)
type Row<'t> = (&'t Transform, &'static str, String, Value, Result<Value, u16>);

#[test]
fn the_scope_function_refuses_and_canonicalises_as_the_authorizer_does() {
    let scope = |operations: &[&str]| Transform {
        healthimaging: Some(EdgeScope {
            datastores: vec![A.into(), B.into()],
            operations: operations.iter().map(|o| o.to_string()).collect(),
        }),
        ..Transform::default()
    };
    let viewing = scope(&["GetImageFrame", "GetImageSetMetadata", "GetImageSet"]);
    let searching = scope(&["GetImageFrame", "SearchImageSets"]);
    let v = |s: &str| json!({ "value": s });
    let frame_q = json!({ "imageFrameId": v(FRAME_A) });
    let metadata = format!("/datastore/{A}/imageSet/{SET}/getImageSetMetadata");
    let search = format!("/datastore/{A}/searchImageSets");
    let table: Vec<Row> = vec![
        (
            &viewing,
            "GET",
            frame_path(A),
            frame_q.clone(),
            Ok(frame_q.clone()),
        ),
        (
            &viewing,
            "HEAD",
            frame_path(B),
            frame_q.clone(),
            Ok(frame_q.clone()),
        ),
        (&viewing, "GET", frame_path(C), frame_q.clone(), Err(403)),
        (&viewing, "POST", frame_path(A), frame_q.clone(), Err(403)),
        (&viewing, "POST", search.clone(), json!({}), Err(403)),
        (
            &viewing,
            "GET",
            format!("/datastore/{A}/imageSet/{SET}/deleteImageSet"),
            json!({}),
            Err(403),
        ),
        (&viewing, "GET", format!("/datastore/{A}"), json!({}), Err(403)),
        (
            &viewing,
            "GET",
            frame_path(&A.to_uppercase()),
            frame_q.clone(),
            Err(400),
        ),
        (&viewing, "GET", frame_path(A), json!({}), Err(400)),
        // Two values under one name: how a repeated or an encoded twin arrives.
        (
            &viewing,
            "GET",
            frame_path(A),
            json!({"imageFrameId": {"value": FRAME_A, "multiValue": [v(FRAME_A), v(FRAME_B)]}}),
            Err(400),
        ),
        (
            &viewing,
            "GET",
            frame_path(A),
            json!({"imageFrame%49d": v(FRAME_B), "imageFrameId": v(FRAME_A)}),
            Err(400),
        ),
        (
            &viewing,
            "GET",
            frame_path(A),
            json!({"ImageFrameId": v(FRAME_A)}),
            Err(400),
        ),
        (
            &viewing,
            "GET",
            frame_path(A),
            json!({"imageFrameId": v(FRAME_A), "debug": v("1")}),
            Err(400),
        ),
        (
            &viewing,
            "GET",
            frame_path(A),
            json!({"imageFrameId": v(FRAME_A), "token": v("x.y.z")}),
            Err(400),
        ),
        (
            &viewing,
            "GET",
            frame_path(A),
            json!({"imageFrameId": v(&format!("%66{}", &FRAME_A[1..]))}),
            Err(400),
        ),
        (&viewing, "GET", metadata.clone(), json!({}), Ok(json!({}))),
        (
            &viewing,
            "GET",
            metadata.clone(),
            json!({"version": v("3")}),
            Ok(json!({"version": v("3")})),
        ),
        (
            &viewing,
            "GET",
            metadata.clone(),
            json!({"version": v("03")}),
            Err(400),
        ),
        (
            &viewing,
            "GET",
            metadata.clone(),
            json!({"versio%6E": v("1")}),
            Err(400),
        ),
        (
            &searching,
            "POST",
            search.clone(),
            json!({"nextToken": v("abc"), "maxResults": v("5")}),
            Ok(json!({"maxResults": v("5"), "nextToken": v("abc")})),
        ),
        (
            &searching,
            "POST",
            search.clone(),
            json!({"maxResults": v("51")}),
            Err(400),
        ),
        (&searching, "GET", metadata.clone(), json!({}), Err(403)),
        // Not HealthImaging's path: passed on untouched.
        (
            &viewing,
            "GET",
            "/viewer/index.html".into(),
            json!({"a": v("1")}),
            Ok(json!({"a": v("1")})),
        ),
    ];
    let cases: Vec<Case> = table
        .iter()
        .map(|(t, method, uri, query, expected)| {
            let event = cff_event(method, uri, query.clone());
            let mut passed = event["request"].clone();
            if let Ok(q) = expected {
                passed["querystring"] = q.clone();
            }
            Case {
                code: t.code(),
                expected: passed,
                what: format!("{method} {uri} {query}"),
                event,
            }
        })
        .collect();
    let code = viewing.code();
    assert!(
        code.len() <= 10_240,
        "{} bytes: over CloudFront's function limit",
        code.len()
    );
    for ((_, _, _, _, expected), (case, (result, logs))) in
        table.iter().zip(cases.iter().zip(run_in_edge_runtime(&cases)))
    {
        assert!(logs.is_empty(), "{}: logged {logs:?}", case.what);
        match expected {
            Ok(_) => assert_eq!(result, case.expected, "{}", case.what),
            Err(status) => {
                assert_eq!(result["statusCode"], *status, "{}: {result}", case.what);
                assert_eq!(
                    result["headers"]["cache-control"]["value"], "no-store",
                    "{}",
                    case.what
                );
            }
        }
    }
}

// ---- whole stacks through the local edge ----------------------------------

/// The regional proxy binary, built from this tree (a stale one would prove nothing).
fn proxy_binary() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--locked",
            "-p",
            "ahi-regional-proxy",
            "--bin",
            "ahi-regional-proxy",
        ])
        .current_dir(&root)
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building the regional proxy failed");
    let deps = std::env::current_exe().unwrap();
    deps.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("ahi-regional-proxy")
}

/// The proxy running where ECS would run it: the stack's task definition's
/// environment, signing with credentials the emulator's HealthImaging knows.
struct Proxy {
    child: Child,
    url: String,
    /// The paths it was asked for (its own request log lines).
    paths: Arc<Mutex<Vec<String>>>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_proxy(emu: &Emulator, stack: &Stack, region: &str) -> Proxy {
    let env = emu.boto3(&format!(
        "ecs = client('ecs', '{region}')\n\
         family = '{name}-proxy'\n\
         d = ecs.describe_task_definition(taskDefinition=family)['taskDefinition']\n\
         print(json.dumps({{e['name']: e['value'] for e in d['containerDefinitions'][0].get('environment', [])}}))",
        name = stack.name,
    ));
    let mut command = Command::new(proxy_binary());
    command.env_clear();
    for (name, value) in env.as_object().unwrap() {
        command.env(name, value.as_str().unwrap());
    }
    let mut child = command
        .env("PORT", "0")
        .env("AHI_ENDPOINT", &emu.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", stack.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the regional proxy");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().expect("the proxy exited before listening").unwrap();
        let log: Value = serde_json::from_str(&line).unwrap_or_default();
        if log["fields"]["message"] == "listening" {
            break log["fields"]["port"]
                .as_u64()
                .expect("the listening line names the port");
        }
    };
    let paths = Arc::new(Mutex::new(Vec::new()));
    let seen = paths.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let log: Value = serde_json::from_str(&line).unwrap_or_default();
            if log["fields"]["message"] == "request" {
                seen.lock()
                    .unwrap()
                    .push(log["fields"]["path"].as_str().unwrap_or_default().to_string());
            }
        }
    });
    let url = format!("http://127.0.0.1:{port}");
    let group = emu.boto3(&format!(
        "print(json.dumps(client('elbv2', '{region}').describe_target_groups(Names=['{}-tg'])['TargetGroups'][0]['TargetGroupArn']))",
        stack.name
    ));
    emu.control(
        "POST",
        "/_ahi/edge/targets",
        Some(&json!({"target_group_arn": group, "url": url})),
    );
    Proxy { child, url, paths }
}

/// Image set SET in each data store, frames A and B with bytes that differ.
fn seed(emu: &Emulator, region: &str, datastores: &[&str]) {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for ds in datastores {
        emu.control(
            "POST",
            "/_ahi/healthimaging/image-sets",
            Some(&json!({
                "region": region, "datastore_id": ds, "image_set_id": SET, "version": "1",
                "metadata": {"Patient": {"DICOM": {"PatientName": format!("PATIENT^{ds}")}}},
                "frames": {FRAME_A: b64(&frame_bytes(ds, FRAME_A)), FRAME_B: b64(&frame_bytes(ds, FRAME_B))},
            })),
        );
    }
}

fn frame_bytes(datastore: &str, frame: &str) -> String {
    format!("pixels of {datastore}/{frame};").repeat(40)
}

fn domain(stack: &Stack) -> String {
    let (code, out) = stack.json(&["outputs"]);
    assert_eq!(code, 0, "{out}");
    out["distribution_domain"].as_str().unwrap().to_string()
}

/// The origin secret header CloudFront sends the ALB (to call the proxy as
/// the edge would).
fn origin_header(emu: &Emulator, d: &str) -> (String, String) {
    let found = emu.boto3(&format!(
        "cf = client('cloudfront')\n\
         for s in cf.list_distributions()['DistributionList'].get('Items', []):\n    \
             if s['DomainName'] == '{d}':\n        \
                 h = s['Origins']['Items'][0]['CustomHeaders']['Items'][0]\n        \
                 print(json.dumps([h['HeaderName'], h['HeaderValue']]))"
    ));
    (
        found[0].as_str().unwrap().into(),
        found[1].as_str().unwrap().into(),
    )
}

/// GET `target` from the proxy directly.
fn direct(proxy: &Proxy, target: &str, header: &(String, String)) -> u16 {
    let address = proxy.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    use std::io::{Read, Write};
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {address}\r\n{}: {}\r\nConnection: close\r\n\r\n",
        header.0, header.1
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    raw.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The review's poisoning probes on data store `ds`: each reaches the edge
/// with an empty cache, then frame A's and frame B's canonical URLs must
/// answer their own bytes.
fn probes_never_share_a_cache_entry(emu: &Emulator, d: &str, ds: &str, headers: &[(&str, &str)]) {
    let frame = frame_path(ds);
    let metadata = format!("/datastore/{ds}/imageSet/{SET}/getImageSetMetadata");
    let probes = [
        format!("{frame}?imageFrame%49d={FRAME_A}&imageFrameId={FRAME_B}"),
        format!("{frame}?imageFrameId={FRAME_B}&imageFrame%49d={FRAME_A}"),
        format!("{frame}?imageFrameId={FRAME_B}&imageFrameId={FRAME_A}"),
        format!("{frame}?imageFrameId={FRAME_A}&imageFrameId={FRAME_B}"),
        format!("{frame}?ImageFrameId={FRAME_B}&imageFrameId={FRAME_A}"),
        format!("{frame}?imageFrameId={FRAME_A}&ImageFrameId={FRAME_B}"),
        format!("{frame}?imageFrameId={FRAME_A}&x={FRAME_B}"),
        format!("{frame}?imageFrameId={FRAME_A}&version=1"),
        format!("{frame}?imageFrameId={FRAME_B}&%74oken=x.y.z"),
        format!("{frame}?imageFrameId={FRAME_B}&Token=x.y.z&token=x.y.z"),
        format!(
            "{frame}?imageFrameId=%{:02X}{}",
            FRAME_B.as_bytes()[0],
            &FRAME_B[1..]
        ),
        format!("{frame}?imageFrameId={FRAME_B}%26imageFrameId%3D{FRAME_A}"),
        format!("{metadata}?versio%6E=1"),
        format!("{metadata}?version=1&version=2"),
    ];
    for probe in &probes {
        emu.control("DELETE", "/_ahi/edge/cache", None);
        let (status, body) = emu.viewer(d, "GET", probe, headers);
        assert!([200, 400, 403].contains(&status), "{probe}: {status} {body}");
        if status == 200 && probe.contains("getImageFrame") {
            // Passed on after the rewrite: then it is one of the two frames, whole.
            assert!(
                body == frame_bytes(ds, FRAME_A) || body == frame_bytes(ds, FRAME_B),
                "{probe}: {body}"
            );
        }
        for (id, label) in [(FRAME_A, "A"), (FRAME_B, "B")] {
            let (status, body) = emu.viewer(d, "GET", &format!("{frame}?imageFrameId={id}"), headers);
            assert_eq!(status, 200, "frame {label} after {probe}: {body}");
            assert_eq!(
                body,
                frame_bytes(ds, id),
                "frame {label}'s URL answered other bytes after {probe}"
            );
        }
    }
}

fn cognito_viewers(emu: &Emulator) -> Value {
    emu.boto3(&format!(
        "idp = client('cognito-idp')\n\
         pool = idp.create_user_pool(PoolName='scoped')['UserPool']['Id']\n\
         app = idp.create_user_pool_client(UserPoolId=pool, ClientName='web',\n    \
             ExplicitAuthFlows=['ADMIN_USER_PASSWORD_AUTH'])['UserPoolClient']['ClientId']\n\
         tokens = {{}}\n\
         for user, groups in (('xavier', ['ahi-datastore-{A}', 'ahi-datastore-{C}', 'radiology']), ('yolanda', ['ahi-datastore-{B}'])):\n    \
             idp.admin_create_user(UserPoolId=pool, Username=user, MessageAction='SUPPRESS')\n    \
             idp.admin_set_user_password(UserPoolId=pool, Username=user, Password='Passw0rd!Passw0rd', Permanent=True)\n    \
             for g in groups:\n        \
                 try: idp.create_group(UserPoolId=pool, GroupName=g)\n        \
                 except idp.exceptions.GroupExistsException: pass\n        \
                 idp.admin_add_user_to_group(UserPoolId=pool, Username=user, GroupName=g)\n    \
             tokens[user] = idp.admin_initiate_auth(UserPoolId=pool, ClientId=app, AuthFlow='ADMIN_USER_PASSWORD_AUTH',\n        \
                 AuthParameters={{'USERNAME': user, 'PASSWORD': 'Passw0rd!Passw0rd'}})['AuthenticationResult']['AccessToken']\n\
         print(json.dumps({{'pool': pool, 'client': app, 'tokens': tokens}}))"
    ))
}

fn image_frame_calls(emu: &Emulator, datastore: &str) -> usize {
    emu.calls()
        .iter()
        .filter(|c| {
            c["operation"] == "GetImageFrame" && c["path"].as_str().is_some_and(|p| p.contains(datastore))
        })
        .count()
}

#[test]
fn with_cognito_each_viewer_reaches_only_its_listed_data_stores_and_probes_never_poison() {
    let emu = &Emulator::start();
    let who = cognito_viewers(emu);
    let stack = Stack::new(
        emu,
        "ahi-delivery",
        "t-scope",
        &[
            ("us-east-1_Ab12Cd34E", who["pool"].as_str().unwrap()),
            ("4fr9qmc1oba52s6hrfl5hntu2u", who["client"].as_str().unwrap()),
            (
                "datastores = [\"dddddddddddddddddddddddddddddddd\"]",
                &format!("datastores = [\"{A}\", \"{B}\"]"),
            ),
            ("# datastore_claim = ", "datastore_claim = "),
            ("# datastore_claim_prefix = ", "datastore_claim_prefix = "),
        ],
    );
    stack.up();
    seed(emu, "us-east-1", &[A, B, C]);
    let proxy = start_proxy(emu, &stack, "us-east-1");
    let d = domain(&stack);
    let bearer = |user: &str| format!("Bearer {}", who["tokens"][user].as_str().unwrap());
    let (x, y) = (bearer("xavier"), bearer("yolanda"));
    let canonical = |ds: &str| format!("{}?imageFrameId={FRAME_A}", frame_path(ds));

    // Xavier's groups grant A and C; the profile lists A and B.
    let (status, body) = emu.viewer(&d, "GET", &canonical(A), &[("Authorization", &x)]);
    assert_eq!((status, body), (200, frame_bytes(A, FRAME_A)));
    assert_eq!(
        emu.viewer(&d, "GET", &canonical(B), &[("Authorization", &x)]).0,
        403,
        "B: no group"
    );
    assert_eq!(
        emu.viewer(&d, "GET", &canonical(C), &[("Authorization", &x)]).0,
        403,
        "C: not in the profile"
    );
    // Yolanda reads B, not A, and not A's cached frame either (a hit is checked too).
    assert_eq!(
        emu.viewer(&d, "GET", &canonical(A), &[("Authorization", &y)]).0,
        403
    );
    let (status, body) = emu.viewer(&d, "GET", &canonical(B), &[("Authorization", &y)]);
    assert_eq!((status, body), (200, frame_bytes(B, FRAME_A)));
    // Search is not enabled: refused at the edge (CloudFront allows no POST here).
    let search = format!("/datastore/{A}/searchImageSets");
    assert_eq!(emu.viewer(&d, "POST", &search, &[("Authorization", &x)]).0, 403);
    // The origin never saw C, the refused B and A reads, or the search.
    let asked = proxy.paths.lock().unwrap().clone();
    assert!(
        !asked
            .iter()
            .any(|p| p.contains(C) || p.contains("searchImageSets")),
        "{asked:?}"
    );
    assert_eq!(asked.iter().filter(|p| p.contains(B)).count(), 1, "{asked:?}");
    assert_eq!(image_frame_calls(emu, C), 0);

    // The proxy on its own (as the ALB's target, with the origin secret):
    // C is outside its DATASTORES, search outside its OPERATIONS.
    let secret = origin_header(emu, &d);
    assert_eq!(direct(&proxy, &canonical(C), &secret), 403);
    assert_eq!(direct(&proxy, &canonical(A), &secret), 200);
    assert_eq!(
        direct(
            &proxy,
            &format!("{}?imageFrame%49d={FRAME_A}", frame_path(A)),
            &secret
        ),
        400
    );
    assert_eq!(image_frame_calls(emu, C), 0, "HealthImaging never heard of C");

    probes_never_share_a_cache_entry(emu, &d, A, &[("Authorization", &x)]);
    let run = stack.run(&["down", "--wait-replicas", "--purge-logs", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

#[test]
fn without_an_authorizer_the_scope_function_holds_the_same_line() {
    let emu = &Emulator::start();
    let stack = Stack::new(
        emu,
        "ahi-delivery-noauth",
        "t-scope-open",
        &[(
            "datastores = [\"dddddddddddddddddddddddddddddddd\"]",
            &format!("datastores = [\"{A}\"]"),
        )],
    );
    stack.up();
    let region = "eu-west-1";
    seed(emu, region, &[A, C]);
    let proxy = start_proxy(emu, &stack, region);
    let d = domain(&stack);
    let canonical = |ds: &str| format!("{}?imageFrameId={FRAME_A}", frame_path(ds));
    let (status, body) = emu.viewer(&d, "GET", &canonical(A), &[]);
    assert_eq!((status, body), (200, frame_bytes(A, FRAME_A)));
    let (status, body) = emu.viewer(&d, "GET", &canonical(C), &[]);
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        emu.viewer(&d, "POST", &format!("/datastore/{A}/searchImageSets"), &[])
            .0,
        403
    );
    let asked = proxy.paths.lock().unwrap().clone();
    assert!(!asked.iter().any(|p| p.contains(C)), "{asked:?}");
    let secret = origin_header(emu, &d);
    assert_eq!(direct(&proxy, &canonical(C), &secret), 403);
    assert_eq!(image_frame_calls(emu, C), 0);

    probes_never_share_a_cache_entry(emu, &d, A, &[]);
    let run = stack.run(&["down", "--wait-replicas", "--purge-logs", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}
