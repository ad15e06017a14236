//! No secret in any output (issue 23): `plan`, `up`, `status` and `down`,
//! each with `-v` and `-vv` (the SDK's own debug log), with and without
//! `--json`, print neither the origin secret's value (read with boto3 from
//! Secrets Manager and from the distribution's origin headers), nor the
//! AWS secret key and session token the binary signs with, nor the
//! content of a private key lying beside the profile. stdout and stderr of
//! every run are scanned, for each secret whole and for every 12-character
//! piece of it.

use serde_json::Value;

use crate::emulator::Emulator;
use crate::stack::Stack;
use crate::support::Run;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli/fixtures");

/// Credentials the binary runs with: distinctive, so a leak is found.
const SECRET_KEY: &str = "wJalrXUtnFEMIK7MDENGbPxRfiCYscanMeNotInOutput1";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEAsessionTokenThatMustNeverBePrinted0123456789";

/// The HealthImaging stack with a signed bucket route beside it, the
/// signer's private key in the same directory.
fn stack<'a>(emu: &'a Emulator, name: &str) -> Stack<'a> {
    emu.boto3(&format!(
        "client('s3').create_bucket(Bucket='{name}-storage')\nprint('null')"
    ));
    let stack = Stack::new(emu, "ahi-delivery", name, &[]);
    let mut text = std::fs::read_to_string(stack.path().join("profile.toml")).unwrap();
    text.push_str(&format!(
        "\n[signers.storage]\nkeys = [{{ id = \"k1\", public_key = \"signer-a.pub.pem\" }}]\n\n\
         [origins.storage]\nkind = \"s3\"\nbucket = \"{name}-storage\"\n\n\
         [[routes]]\npath = \"/storage/*\"\norigin = \"storage\"\nsigned = \"storage\"\n\n\
         [[routes]]\npath = \"*\"\norigin = \"healthimaging\"\n"
    ));
    std::fs::write(stack.path().join("profile.toml"), text).unwrap();
    for f in ["signer-a.pub.pem", "signer-a.pem"] {
        std::fs::copy(format!("{FIXTURES}/{f}"), stack.path().join(f)).unwrap();
    }
    stack
}

/// One run of the binary with the distinctive credentials.
fn run(stack: &Stack, args: &[&str]) -> (String, Run) {
    let mut all = vec!["--profile", "profile.toml"];
    all.extend_from_slice(args);
    let out = stack
        .emu
        .command(&all, stack.path())
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
        .output()
        .expect("run ahi-edge");
    (args.join(" "), out.into())
}

/// The origin secret's value as Secrets Manager holds it, and every
/// custom origin header value of the stack's distribution.
fn origin_secrets(emu: &Emulator, name: &str) -> Vec<String> {
    let found = emu.boto3(&format!(
        "sm = client('secretsmanager')\n\
         values = []\n\
         for s in sm.list_secrets()['SecretList']:\n    \
             if s['Name'].startswith('ahi-edge/{name}/'):\n        \
                 values.append(sm.get_secret_value(SecretId=s['ARN'])['SecretString'])\n\
         cf = client('cloudfront')\n\
         for d in cf.list_distributions()['DistributionList'].get('Items', []):\n    \
             config = cf.get_distribution_config(Id=d['Id'])['DistributionConfig']\n    \
             if '{name}' not in config.get('Comment', ''):\n        \
                 continue\n    \
             for o in config['Origins']['Items']:\n        \
                 for h in o.get('CustomHeaders', {{}}).get('Items', []):\n            \
                     values.append(h['HeaderValue'])\n\
         print(json.dumps(values))"
    ));
    let values: Vec<String> = serde_json::from_value(found).unwrap();
    values
}

/// The secret, whole and in every 12-character piece.
fn pieces(secret: &str) -> Vec<String> {
    let chars: Vec<char> = secret.chars().collect();
    let mut out = vec![secret.to_string()];
    if chars.len() > 12 {
        out.extend(chars.windows(12).map(|w| w.iter().collect::<String>()));
    }
    out
}

#[test]
fn plan_up_status_and_down_print_no_secret_at_any_verbosity() {
    let emu = &Emulator::start();
    let name = "t-nosecret";
    let stack = stack(emu, name);
    let mut runs: Vec<(String, Run)> = Vec::new();
    let mut origin = Vec::new();
    let variants: [&[&str]; 4] = [&["-v"], &["-vv"], &["-v", "--json"], &["-vv", "--json"]];
    // Four cycles, so every command runs in every variant against a live
    // stack: plan (before the stack, then unchanged), up (creates, then
    // unchanged), status, down (deletes everything).
    for (i, variant) in variants.iter().enumerate() {
        let with = |command: &[&str]| -> Vec<String> {
            variant.iter().chain(command).map(|s| s.to_string()).collect()
        };
        for command in [&["plan"][..], &["up"], &["up"], &["plan"], &["status"]] {
            let args = with(command);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (what, out) = run(&stack, &args);
            let expected = match command[0] {
                "plan" => [0, 4].as_slice(),
                _ => [0].as_slice(),
            };
            assert!(
                expected.contains(&out.code),
                "{what} (cycle {i}) exited {}:\n{}\n{}",
                out.code,
                out.stdout,
                out.stderr
            );
            runs.push((what, out));
        }
        let cycle = origin_secrets(emu, name);
        assert!(
            cycle.len() >= 2 && cycle.iter().all(|v| v.len() >= 32),
            "the secret in Secrets Manager and the distribution's origin header: {cycle:?}"
        );
        assert!(cycle.windows(2).all(|w| w[0] == w[1]), "one value: {cycle:?}");
        origin.extend(cycle);
        let args = with(&["down", "--yes", "--wait-replicas", "--purge-logs"]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (what, out) = run(&stack, &args);
        assert_eq!(out.code, 0, "{what}:\n{}\n{}", out.stdout, out.stderr);
        runs.push((what, out));
    }
    // -vv is really the SDK's debug log, and -v the call log, so the scan
    // reads what the flags add.
    assert!(
        runs.iter()
            .any(|(w, r)| w.starts_with("-vv") && r.stderr.contains("DEBUG"))
    );
    let call_log: Vec<&str> = runs
        .iter()
        .filter(|(w, _)| w.starts_with("-v "))
        .flat_map(|(_, r)| r.stderr.lines())
        .filter(|l| l.starts_with("aws: "))
        .collect();
    assert!(
        call_log.iter().any(|l| l.contains("GetSecretValue")),
        "{call_log:#?}"
    );
    let private_key = std::fs::read_to_string(format!("{FIXTURES}/signer-a.pem")).unwrap();
    let key_lines: Vec<String> = private_key
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_string)
        .collect();
    assert!(!key_lines.is_empty());
    let mut secrets: Vec<(&str, String)> = Vec::new();
    for value in &origin {
        secrets.extend(pieces(value).into_iter().map(|p| ("the origin secret", p)));
    }
    secrets.extend(pieces(SECRET_KEY).into_iter().map(|p| ("the AWS secret key", p)));
    secrets.extend(
        pieces(SESSION_TOKEN)
            .into_iter()
            .map(|p| ("the AWS session token", p)),
    );
    secrets.extend(key_lines.into_iter().map(|l| ("the private key", l)));
    let mut scanned = 0;
    for (what, out) in &runs {
        let text = format!("{}\n{}", out.stdout, out.stderr);
        scanned += text.len();
        for (kind, secret) in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "`{what}` printed {kind} ({secret:?})"
            );
        }
        if what.contains("--json") {
            serde_json::from_str::<Value>(&out.stdout)
                .unwrap_or_else(|e| panic!("`{what}` printed no JSON document ({e})"));
        }
    }
    assert_eq!(runs.len(), 4 * 6);
    assert!(scanned > 100_000, "only {scanned} bytes scanned");
}
