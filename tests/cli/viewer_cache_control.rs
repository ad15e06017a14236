//! PHI is never marked public toward viewers (issue 23, item 5). The proxy
//! answers frames `public, max-age=31536000, immutable`; the edge keeps
//! caching them by that header, and viewers get the profile's
//! `cloudfront.viewer_cache_control` instead. Checked with plain HTTP
//! through the emulator's local edge, boto3 and the call log.

use serde_json::{Value, json};

use crate::emulator::Emulator;
use crate::shared_cache::viewers;
use crate::stack::{Stack, mutating};
use crate::support::validate;

const ORIGIN_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// Fetches one frame `times` times with a viewer's token, through the
/// distribution's domain, with a loopback origin answering as the proxy
/// does: what each response carried, and how many requests the origin saw.
fn fetch_frame(stack: &Stack, token: &str, times: usize) -> Value {
    let n = &stack.name;
    stack.emu.boto3(&format!(
        "import http.client, http.server, re, threading, urllib.request\n\
         lock = open('{lock}').read()\n\
         dist = re.search(r'\\[resources.distribution\\][^\\[]*physical_id = \"([^\"]+)\"', lock).group(1)\n\
         domain = client('cloudfront').get_distribution(Id=dist)['Distribution']['DomainName']\n\
         group = client('elbv2').describe_target_groups(Names=['{n}-tg'])['TargetGroups'][0]['TargetGroupArn']\n\
         seen = []\n\
         class Proxy(http.server.BaseHTTPRequestHandler):\n    \
             def log_message(self, *a): pass\n    \
             def do_GET(self):\n        \
                 seen.append(self.path)\n        \
                 body = b'frame-bytes' * 100\n        \
                 self.send_response(200)\n        \
                 self.send_header('Content-Type', 'application/octet-stream')\n        \
                 self.send_header('Cache-Control', '{origin_cc}')\n        \
                 self.send_header('Content-Length', str(len(body)))\n        \
                 self.end_headers()\n        \
                 self.wfile.write(body)\n\
         server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Proxy)\n\
         threading.Thread(target=server.serve_forever, daemon=True).start()\n\
         endpoint = os.environ['AHI_EMULATOR']\n\
         req = urllib.request.Request(endpoint + '/_ahi/edge/targets', method='POST', headers={{'Content-Type': 'application/json'}},\n    \
             data=json.dumps({{'target_group_arn': group, 'url': f'http://127.0.0.1:{{server.server_address[1]}}'}}).encode())\n\
         urllib.request.urlopen(req).read()\n\
         host, port = endpoint.split('//')[1].split(':')\n\
         frame = '/datastore/' + 'd' * 32 + '/imageSet/' + '1' * 32 + '/getImageFrame?imageFrameId=' + 'f' * 32\n\
         out = []\n\
         for _ in range({times}):\n    \
             c = http.client.HTTPConnection(host, int(port), timeout=30)\n    \
             c.request('GET', frame, headers={{'Host': domain, 'Authorization': 'Bearer {token}'}})\n    \
             r = c.getresponse(); r.read()\n    \
             out.append({{'status': r.status, 'x_cache': r.getheader('X-Cache'),\n        \
                 'cache_control': [v for k, v in r.getheaders() if k.lower() == 'cache-control']}})\n\
         print(json.dumps({{'responses': out, 'origin_requests': len(seen)}}))",
        lock = stack.path().join("profile.lock").display(),
        origin_cc = ORIGIN_CACHE_CONTROL,
    ))
}

/// The live response headers policy's custom headers, read with boto3.
fn custom_headers(stack: &Stack) -> Value {
    stack.emu.boto3(&format!(
        "import re\n\
         lock = open('{lock}').read()\n\
         rh = re.search(r'\\[resources.response_headers_policy\\][^\\[]*physical_id = \"([^\"]+)\"', lock).group(1)\n\
         c = client('cloudfront').get_response_headers_policy_config(Id=rh)['ResponseHeadersPolicyConfig']\n\
         print(json.dumps(c['CustomHeadersConfig']['Items']))",
        lock = stack.path().join("profile.lock").display(),
    ))
}

fn writes(emu: &Emulator) -> Vec<String> {
    emu.calls()
        .iter()
        .filter_map(|c| c["operation"].as_str())
        .filter(|o| mutating(o))
        .map(str::to_string)
        .collect()
}

#[test]
fn viewers_get_the_profiles_cache_control_while_the_edge_keeps_caching_by_the_origins() {
    // Its own emulator: the test reads the call log.
    let emu = &Emulator::start();
    let who = viewers(emu);
    let token = who["tokens"][0].as_str().unwrap();
    let stack = Stack::new(
        emu,
        "ahi-delivery",
        "t-viewer-cc",
        &[
            ("us-east-1_Ab12Cd34E", who["pool"].as_str().unwrap()),
            ("4fr9qmc1oba52s6hrfl5hntu2u", who["client"].as_str().unwrap()),
        ],
    );
    stack.up();
    assert_eq!(
        custom_headers(&stack),
        json!([{"Header": "Cache-Control", "Value": "private, no-store", "Override": true}])
    );

    // Miss then Hit: the edge cached by the origin's year-long header, and
    // neither answer tells the viewer `public`.
    let seen = fetch_frame(&stack, token, 2);
    let r = &seen["responses"];
    assert_eq!(
        (&r[0]["status"], &r[1]["status"]),
        (&json!(200), &json!(200)),
        "{seen}"
    );
    assert_eq!(r[0]["x_cache"], "Miss from cloudfront", "{seen}");
    assert_eq!(r[1]["x_cache"], "Hit from cloudfront", "{seen}");
    assert_eq!(r[0]["cache_control"], json!(["private, no-store"]), "{seen}");
    assert_eq!(r[1]["cache_control"], json!(["private, no-store"]), "{seen}");
    assert_eq!(seen["origin_requests"], 1, "{seen}");

    // plan and status show what viewers get.
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 0, "{plan}");
    assert_eq!(plan["viewer_cache_control"], "private, no-store");
    let (_, status) = stack.json(&["status"]);
    assert_eq!(status["viewer_cache_control"], "private, no-store");

    // Another value is one policy update: no distribution deploy, no new
    // authorizer version, and the cached frame stays cached.
    stack.edit(
        "viewer_cache_control = \"private, no-store\"",
        "viewer_cache_control = \"Private, MAX-AGE=60\"",
    );
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 4, "{plan}");
    assert_eq!(plan["viewer_cache_control"], "private, max-age=60");
    let step = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "response_headers_policy")
        .unwrap();
    assert_eq!(
        step["changes"],
        json!([{"field": "viewer_cache_control", "old": "private, no-store", "new": "private, max-age=60"}])
    );
    emu.control("DELETE", "/_ahi/calls", None);
    stack.up();
    assert_eq!(writes(emu), ["UpdateResponseHeadersPolicy"]);
    assert_eq!(
        custom_headers(&stack),
        json!([{"Header": "Cache-Control", "Value": "private, max-age=60", "Override": true}])
    );
    let seen = fetch_frame(&stack, token, 1);
    let r = &seen["responses"][0];
    assert_eq!(r["x_cache"], "Hit from cloudfront", "{seen}");
    assert_eq!(r["cache_control"], json!(["private, max-age=60"]), "{seen}");
    let (_, status) = stack.json(&["status"]);
    assert_eq!(status["viewer_cache_control"], "private, max-age=60");
    assert_eq!(status["healthy"], true, "{status}");

    // An out-of-band Override=false (the origin's `public` would pass
    // through) is drift, and `up` puts it back.
    emu.boto3(&format!(
        "import re\n\
         lock = open('{lock}').read()\n\
         rh = re.search(r'\\[resources.response_headers_policy\\][^\\[]*physical_id = \"([^\"]+)\"', lock).group(1)\n\
         cf = client('cloudfront')\n\
         got = cf.get_response_headers_policy_config(Id=rh)\n\
         c = got['ResponseHeadersPolicyConfig']\n\
         c['CustomHeadersConfig']['Items'][0]['Override'] = False\n\
         cf.update_response_headers_policy(Id=rh, IfMatch=got['ETag'], ResponseHeadersPolicyConfig=c)\n\
         print(json.dumps(True))",
        lock = stack.path().join("profile.lock").display(),
    ));
    let (code, status) = stack.json(&["status"]);
    assert_eq!(code, 4, "{status}");
    let policy = status["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "response_headers_policy")
        .unwrap();
    assert_eq!(policy["drift"], json!(["viewer_cache_control"]), "{status}");
    stack.up();
    assert_eq!(custom_headers(&stack)[0]["Override"], true);

    // A value that lets shared caches keep PHI changes nothing.
    stack.edit(
        "viewer_cache_control = \"Private, MAX-AGE=60\"",
        "viewer_cache_control = \"public, max-age=60\"",
    );
    emu.control("DELETE", "/_ahi/calls", None);
    let run = stack.run(&["up"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(writes(emu), Vec::<String>::new());

    stack.edit(
        "viewer_cache_control = \"public, max-age=60\"",
        "viewer_cache_control = \"private, no-store\"",
    );
    let run = stack.run(&["down", "--wait-replicas", "--purge-logs", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// The shipped profile with `viewer_cache_control` set to `value`, and
/// where its value starts (line, column).
fn with_value(value: &str) -> (String, usize, usize) {
    let text = include_str!("../../profiles/ahi-delivery.toml").replace(
        "viewer_cache_control = \"private, no-store\"",
        &format!("viewer_cache_control = {}", toml_string(value)),
    );
    let line = text
        .lines()
        .position(|l| l.starts_with("viewer_cache_control = "))
        .unwrap();
    (text, line + 1, "viewer_cache_control = ".len() + 1)
}

fn toml_string(value: &str) -> String {
    serde_json::to_string(value).unwrap()
}

#[test]
fn validate_refuses_public_and_values_that_are_not_a_directive_list_at_their_place() {
    for (value, message) in [
        ("public, max-age=31536000, immutable", "lets shared caches"),
        ("private, s-maxage=60", "lets shared caches"),
        ("max-age=60", "has neither private nor no-store"),
        ("private=\"set-cookie\", max-age=60", "takes none here"),
        ("private, no-store\r\nX-Injected: 1", "printable ASCII only"),
        ("private; no-store", "not a Cache-Control response directive"),
        ("private, max-age", "without a number of seconds"),
    ] {
        let (text, line, column) = with_value(value);
        validate(&text)
            .exit(2)
            .has_error(
                "cloudfront.viewer_cache_control",
                message,
                "\"private, no-store\" (the default)",
            )
            .at(&format!("{line}:{column}"), "cloudfront.viewer_cache_control");
    }
    let (text, _, _) = with_value("private, max-age=60");
    validate(&text).exit(0);
}

#[test]
fn a_routes_only_profile_refuses_the_key_it_would_ignore() {
    let text = include_str!("../../profiles/reverse-proxy.toml");
    let at = text.find("[cloudfront]\n");
    let text = match at {
        Some(i) => format!(
            "{}viewer_cache_control = \"private, no-store\"\n{}",
            &text[..i + "[cloudfront]\n".len()],
            &text[i + "[cloudfront]\n".len()..]
        ),
        None => format!("{text}\n[cloudfront]\nviewer_cache_control = \"private, no-store\"\n"),
    };
    validate(&text).exit(2).has_error(
        "cloudfront.viewer_cache_control",
        "this profile has no [healthimaging]",
        "remove viewer_cache_control",
    );
}
