//! What a person reads when AWS cannot be reached or no credentials exist:
//! one line naming the cause and one naming the fix, exit 1, no SDK
//! structure dumps. (How fast the unreachable case fails is measured by
//! hand, not asserted: docs/testing.md.)

use std::path::Path;

use crate::support::{Run, bin};

/// A profile in an empty home: no shared AWS config or credentials files.
fn isolated(args: &[&str], env: &[(&str, &str)]) -> (Run, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        bin()
            .args(["init", "--profile", "p.toml"])
            .current_dir(dir.path())
            .status()
            .unwrap()
            .code(),
        Some(0)
    );
    crate::support::type_http_acknowledgement(&dir.path().join("p.toml"));
    let mut cmd = bin();
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") {
            cmd.env_remove(name);
        }
    }
    let home: &Path = dir.path();
    cmd.env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .envs(env.iter().copied())
        .args(["--profile", "p.toml"])
        .args(args)
        .current_dir(dir.path());
    (cmd.output().unwrap().into(), dir)
}

fn readable(run: &Run, cause: &str, fix: &str) {
    assert_eq!(run.code, 1, "{}", run.stderr);
    // The profile is `init`'s template: its example values' warnings come
    // first; where the state lives is said before any AWS call.
    let mut lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("state: "))
        .collect();
    while lines
        .first()
        .is_some_and(|l| l.starts_with("p.toml:") && l.contains("warning"))
    {
        lines.drain(..2);
    }
    assert_eq!(
        lines.len(),
        2,
        "one line for the cause, one for the fix:\n{}",
        run.stderr
    );
    assert!(
        lines[0].starts_with("error: GetCallerIdentity: ") && lines[0].contains(cause),
        "{}",
        run.stderr
    );
    assert!(
        lines[1].trim_start().starts_with("fix: ") && lines[1].contains(fix),
        "{}",
        run.stderr
    );
    for dump in ["DispatchFailure", "ConnectorError", "{", "Some("] {
        assert!(!run.stderr.contains(dump), "no SDK structure: {}", run.stderr);
    }
}

#[test]
fn no_credentials_are_named_with_the_fix() {
    let (run, _dir) = isolated(&["--endpoint-url", "http://127.0.0.1:9", "plan"], &[]);
    readable(&run, "no usable AWS credentials", "--aws-profile NAME");
}

#[test]
fn an_unreachable_endpoint_is_named_with_the_fix() {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let (run, _dir) = isolated(
        &["--endpoint-url", "http://127.0.0.1:9", "plan"],
        &[
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ],
    );
    readable(
        &run,
        "cannot connect to AWS (Connection refused",
        "--endpoint-url",
    );
}

/// `-v`: one line per AWS call, each naming service, operation, region,
/// status and attempts, as many as the emulator received; `-vv`: the SDK's
/// own debug log too.
#[test]
fn verbose_shows_one_line_per_aws_call_and_very_verbose_the_sdks_debug() {
    let emu = &crate::emulator::Emulator::start();
    let stack = crate::stack::Stack::new(emu, "ahi-delivery-noauth", "t-verbose", &[]);
    stack.up();
    emu.control("DELETE", "/_ahi/calls", None);
    let run = stack.run(&["status", "-v"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("aws: ")).collect();
    let calls = emu.calls();
    assert_eq!(lines.len(), calls.len(), "{}", run.stderr);
    assert!(lines.len() > 10, "status reads every resource: {}", run.stderr);
    for call in &calls {
        let op = call["operation"].as_str().unwrap();
        assert!(
            lines.iter().any(|l| l.contains(&format!(" {op} "))
                && l.contains(" -> 200 in ")
                && l.ends_with("attempt)")),
            "no line for {op}:\n{}",
            run.stderr
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("aws: EC2 DescribeVpcs eu-west-1 -> 200")),
        "{}",
        run.stderr
    );
    let quiet = stack.run(&["status"]);
    assert!(!quiet.stderr.contains("aws: "), "{}", quiet.stderr);
    let debug = stack.run(&["status", "-vv"]);
    assert!(
        debug.stderr.contains("DEBUG") && debug.stderr.contains("aws_smithy"),
        "{}",
        debug.stderr
    );
    let run = stack.run(&["down", "--wait-replicas", "--purge-logs", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}
