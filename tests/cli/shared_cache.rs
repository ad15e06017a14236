//! The default stack through the emulator's local edge: one cached frame
//! for every signed-in viewer, CORS on every response, credentials kept at
//! the edge. Viewers are real Cognito users of the emulator, the authorizer
//! is the deployed package, and a loopback server stands in for the proxy
//! behind the ALB; checked with plain HTTP and boto3.

use serde_json::{Value, json};

use crate::emulator::Emulator;
use crate::stack::Stack;

/// A user pool with two signed-in users; their access tokens differ.
pub fn viewers(emu: &Emulator) -> Value {
    emu.boto3(
        "idp = client('cognito-idp')\n\
         pool = idp.create_user_pool(PoolName='viewers')['UserPool']['Id']\n\
         app = idp.create_user_pool_client(UserPoolId=pool, ClientName='web',\n    \
             ExplicitAuthFlows=['ADMIN_USER_PASSWORD_AUTH'])['UserPoolClient']['ClientId']\n\
         tokens = []\n\
         for user in ('alice', 'bob'):\n    \
             idp.admin_create_user(UserPoolId=pool, Username=user, MessageAction='SUPPRESS')\n    \
             idp.admin_set_user_password(UserPoolId=pool, Username=user, Password='Passw0rd!Passw0rd', Permanent=True)\n    \
             tokens.append(idp.admin_initiate_auth(UserPoolId=pool, ClientId=app, AuthFlow='ADMIN_USER_PASSWORD_AUTH',\n        \
                 AuthParameters={'USERNAME': user, 'PASSWORD': 'Passw0rd!Passw0rd'})['AuthenticationResult']['AccessToken'])\n\
         print(json.dumps({'pool': pool, 'client': app, 'tokens': tokens}))",
    )
}

/// Viewer requests through the distribution's domain, with a loopback
/// origin registered as the ALB's target: what each viewer got and what the
/// origin received.
fn through_the_edge(stack: &Stack, tokens: &Value) -> Value {
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
                 seen.append({{'path': self.path, 'headers': {{k.lower(): v for k, v in self.headers.items()}}}})\n        \
                 body = b'frame-bytes' * 100\n        \
                 self.send_response(200)\n        \
                 self.send_header('Content-Type', 'application/octet-stream')\n        \
                 self.send_header('Cache-Control', 'public, max-age=31536000, immutable')\n        \
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
         def get(path, token=None, origin=None):\n    \
             c = http.client.HTTPConnection(host, int(port), timeout=30)\n    \
             h = {{'Host': domain}}\n    \
             if token: h['Authorization'] = 'Bearer ' + token\n    \
             if origin: h['Origin'] = origin\n    \
             c.request('GET', path, headers=h)\n    \
             r = c.getresponse(); r.read()\n    \
             return {{'status': r.status, 'x_cache': r.getheader('X-Cache'), 'acao': r.getheader('Access-Control-Allow-Origin'),\n        \
                 'hsts': r.getheader('Strict-Transport-Security'), 'nosniff': r.getheader('X-Content-Type-Options')}}\n\
         frame = '/datastore/' + 'd' * 32 + '/imageSet/' + '1' * 32 + '/getImageFrame?imageFrameId=' + 'f' * 32\n\
         tokens = {tokens}\n\
         out = {{'a': get(frame, tokens[0], 'https://viewer.example'),\n    \
                 'b': get(frame + '&token=' + tokens[1], tokens[1], 'https://other.example'),\n    \
                 'anonymous': get(frame, None, 'https://viewer.example')}}\n\
         out['origin'] = seen\n\
         print(json.dumps(out))",
        lock = stack.path().join("profile.lock").display(),
    ))
}

#[test]
fn the_default_stack_serves_one_cached_frame_to_every_signed_in_viewer_with_cors() {
    // Its own emulator: the test reads the call log.
    let emu = &Emulator::start();
    let who = viewers(emu);
    let pool = who["pool"].as_str().unwrap();
    let client = who["client"].as_str().unwrap();
    let stack = Stack::new(
        emu,
        "ahi-delivery",
        "t-shared",
        &[
            ("us-east-1_Ab12Cd34E", pool),
            ("4fr9qmc1oba52s6hrfl5hntu2u", client),
            (
                "cors_allow_origins = [\"*\"]",
                "cors_allow_origins = [\"https://viewer.example\"]",
            ),
        ],
    );
    stack.up();

    let seen = through_the_edge(&stack, &who["tokens"]);
    // Viewer A misses, viewer B (another user, another token) hits.
    assert_eq!(seen["a"]["status"], 200, "{seen}");
    assert_eq!(seen["a"]["x_cache"], "Miss from cloudfront");
    assert_eq!(seen["b"]["status"], 200, "{seen}");
    assert_eq!(seen["b"]["x_cache"], "Hit from cloudfront");
    // CORS on the 200 for the allowed origin only, and on the 401.
    assert_eq!(seen["a"]["acao"], "https://viewer.example");
    assert_eq!(seen["b"]["acao"], Value::Null);
    assert_eq!(seen["anonymous"]["status"], 401);
    assert_eq!(seen["anonymous"]["acao"], "https://viewer.example");
    assert_eq!(seen["a"]["hsts"], "max-age=31536000");
    assert_eq!(seen["a"]["nosniff"], "nosniff");
    // The origin got one request, without the token in any form.
    let origin = seen["origin"].as_array().unwrap();
    assert_eq!(origin.len(), 1, "{origin:?}");
    assert!(origin[0]["headers"].get("authorization").is_none(), "{origin:?}");
    assert!(
        !origin[0]["path"].as_str().unwrap().contains("token"),
        "{origin:?}"
    );

    // A new origin list is one policy update: no new authorizer version,
    // no distribution deploy, no cache key change.
    emu.control("DELETE", "/_ahi/calls", None);
    stack.edit(
        "cors_allow_origins = [\"https://viewer.example\"]",
        "cors_allow_origins = [\"https://viewer.example\", \"https://other.example\"]",
    );
    stack.up();
    let writes: Vec<String> = emu
        .calls()
        .iter()
        .filter_map(|c| c["operation"].as_str())
        .filter(|o| crate::stack::mutating(o))
        .map(str::to_string)
        .collect();
    assert_eq!(writes, ["UpdateResponseHeadersPolicy"], "writes: {writes:?}");
    let origins = emu.boto3(&format!(
        "import re\n\
         lock = open('{lock}').read()\n\
         rh = re.search(r'\\[resources.response_headers_policy\\][^\\[]*physical_id = \"([^\"]+)\"', lock).group(1)\n\
         c = client('cloudfront').get_response_headers_policy_config(Id=rh)['ResponseHeadersPolicyConfig']\n\
         print(json.dumps(c['CorsConfig']['AccessControlAllowOrigins']['Items']))",
        lock = stack.path().join("profile.lock").display(),
    ));
    assert_eq!(
        origins,
        json!(["https://viewer.example", "https://other.example"])
    );
    let run = stack.run(&["down", "--wait-replicas", "--purge-logs", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let left: Vec<Value> = emu
        .resources_of(&stack.name)
        .into_iter()
        .filter(|r| r["type"] != "replica")
        .collect();
    assert!(left.is_empty(), "left behind: {left:#?}");
}
