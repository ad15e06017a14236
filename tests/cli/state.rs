//! Team state in S3 (`[state] backend = "s3"`): the lock, conditional
//! writes, a broken lock, kills at every state write, and moving a deployed
//! stack's state to S3 for a second working directory. Results are checked
//! with boto3 and the emulator's call log and inventory, never `status`.
//!
//! The stack is a small routes-only profile (one HTTP origin): a log bucket
//! and a distribution, which exercises the lock and every state write the
//! same way a HealthImaging stack does, in a fraction of the time.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ahi_edge::iam_policy::{action_for, allows};
use serde_json::{Value, json};

use crate::emulator::Emulator;
use crate::stack::{Stack, mutating};
use crate::support::{Run, validate};

const BUCKET: &str = "team-state";
const WAIT: Duration = Duration::from_secs(180);

fn key(stack: &str) -> String {
    format!("ahi-edge/{stack}.lock")
}

fn routes_profile(stack: &str) -> String {
    format!(
        "[stack]\nname = \"{stack}\"\nregion = \"us-east-1\"\n\n\
         [origins.api]\nkind = \"http\"\ndomain = \"api.{stack}.test\"\n\n\
         [[routes]]\npath = \"*\"\norigin = \"api\"\n"
    )
}

fn state_table(stack: &str, extra: &str) -> String {
    format!(
        "\n[state]\nbackend = \"s3\"\nbucket = \"{BUCKET}\"\nkey = \"{}\"\n{extra}",
        key(stack)
    )
}

/// A routes-only stack whose profile keeps its state in S3 (the bucket is
/// created here, as a team creates it once).
fn team<'a>(emu: &'a Emulator, name: &str, extra: &str) -> Stack<'a> {
    state_bucket(emu);
    let dir = tempfile::tempdir().unwrap();
    let text = routes_profile(name) + &state_table(name, extra);
    std::fs::write(dir.path().join("profile.toml"), text).unwrap();
    Stack {
        emu,
        name: name.to_string(),
        dir,
    }
}

fn state_bucket(emu: &Emulator) {
    emu.boto3(&format!(
        "s3 = client('s3')\n\
         try:\n    s3.create_bucket(Bucket='{BUCKET}')\n\
         except s3.exceptions.BucketAlreadyOwnedByYou:\n    pass\n\
         print(json.dumps(True))"
    ));
}

fn state_path(stack: &Stack) -> String {
    format!("/{BUCKET}/{}", key(&stack.name))
}

fn lock_path(stack: &Stack) -> String {
    format!("{}.run-lock", state_path(stack))
}

/// The state object as boto3 reads it (TOML -> JSON), with how it is
/// encrypted at rest; `null` when there is none.
fn state_object(stack: &Stack) -> Value {
    stack.emu.boto3(&format!(
        "import tomllib\n\
         s3 = client('s3')\n\
         try:\n    o = s3.get_object(Bucket='{BUCKET}', Key='{}')\n\
         except s3.exceptions.NoSuchKey:\n    print(json.dumps(None)); raise SystemExit\n\
         doc = tomllib.loads(o['Body'].read().decode())\n\
         doc['_sse'] = o.get('ServerSideEncryption')\n\
         doc['_kms'] = o.get('SSEKMSKeyId')\n\
         print(json.dumps(doc, default=str))",
        key(&stack.name)
    ))
}

/// `ahi-edge ARGS` started with its output captured.
fn spawn(stack: &Stack, args: &[&str]) -> Child {
    let mut all = vec!["--profile", "profile.toml"];
    all.extend_from_slice(args);
    stack
        .emu
        .command(&all, stack.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The lock id an exit-5 message names.
fn lock_id(stderr: &str) -> String {
    let at = stderr
        .find("lock id L-")
        .unwrap_or_else(|| panic!("no lock id in:\n{stderr}"));
    stderr[at + "lock id ".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

fn calls_at(stack: &Stack, after: u64, operation: &str, path: &str) -> Vec<u64> {
    stack
        .calls_since(after)
        .iter()
        .filter(|c| c["operation"] == operation && c["path"] == path)
        .map(|c| c["status"].as_u64().unwrap_or(0))
        .collect()
}

/// Mutating calls that changed something, outside the state bucket.
fn stack_writes(stack: &Stack, after: u64) -> Vec<String> {
    stack
        .calls_since(after)
        .iter()
        .filter(|c| c["operation"].as_str().is_some_and(mutating))
        .filter(|c| {
            !c["path"]
                .as_str()
                .unwrap_or("")
                .starts_with(&format!("/{BUCKET}/"))
        })
        .map(|c| format!("{} {}", c["operation"].as_str().unwrap_or("?"), c["status"]))
        .collect()
}

#[test]
fn two_ups_started_together_fifty_times_exactly_one_proceeds_and_the_other_writes_nothing() {
    let emu = &Emulator::start();
    let stack = team(emu, "t-state-race", "");
    stack.up();
    let (state, lock) = (state_path(&stack), lock_path(&stack));
    let started = Instant::now();
    for trial in 1..=50 {
        let t = stack.last_seq();
        // Whoever takes the lock stays parked at its first state read, so
        // the other certainly tries while the lock is held.
        let hold = emu.control(
            "POST",
            "/_ahi/holds",
            Some(&json!({"operation": "s3:GetObject", "path": state})),
        );
        let runs = [spawn(&stack, &["up"]), spawn(&stack, &["up"])];
        let pids: Vec<u32> = runs.iter().map(Child::id).collect();
        let (tx, rx) = mpsc::channel();
        for (i, child) in runs.into_iter().enumerate() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let out = child.wait_with_output().unwrap();
                let _ = tx.send((i, Run::from(out)));
            });
        }
        let (loser, lost) = rx
            .recv_timeout(WAIT)
            .expect("one `up` ends while the other holds the lock");
        emu.control("POST", "/_ahi/holds/release", Some(&json!({"id": hold["id"]})));
        let (_, won) = rx.recv_timeout(WAIT).expect("the holder finishes");
        assert_eq!(lost.code, 5, "trial {trial}: {}\n{}", lost.stdout, lost.stderr);
        assert_eq!(won.code, 0, "trial {trial}: {}\n{}", won.stdout, won.stderr);
        let holder = pids[1 - loser];
        for needle in [
            "the state is locked by another ahi-edge run",
            &format!("`up` of stack {}", stack.name),
            &format!("(pid {holder},"),
            "lock id L-",
            "ahi-edge state unlock L-",
        ] {
            assert!(
                lost.stderr.contains(needle),
                "trial {trial}: no {needle:?} in:\n{}",
                lost.stderr
            );
        }
        // The loser's only calls: its refused lock and the read of who holds it.
        let mut puts = calls_at(&stack, t, "PutObject", &lock);
        puts.sort();
        assert_eq!(puts, [200, 412], "trial {trial}");
        assert_eq!(calls_at(&stack, t, "GetObject", &lock), [200], "trial {trial}");
        assert_eq!(calls_at(&stack, t, "DeleteObject", &lock), [204], "trial {trial}");
        assert_eq!(
            calls_at(&stack, t, "PutObject", &state),
            Vec::<u64>::new(),
            "trial {trial}"
        );
        let sts = stack
            .calls_since(t)
            .iter()
            .filter(|c| c["operation"] == "GetCallerIdentity")
            .count();
        assert_eq!(sts, 1, "trial {trial}: only the holder went on to AWS");
        assert_eq!(stack_writes(&stack, t), Vec::<String>::new(), "trial {trial}");
    }
    eprintln!("50 racing trials in {:.1}s", started.elapsed().as_secs_f64());
    let run = stack.run(&["down", "--wait-replicas", "--purge-logs", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

#[test]
fn a_lock_broken_while_its_holder_runs_stops_the_holder_before_any_further_write_and_loses_nothing() {
    let emu = &Emulator::start();
    let stack = team(emu, "t-state-broken", "kms_key_id = \"alias/t-state-broken\"\n");
    // The holder parks inside its distribution's create call: its intent is
    // already saved, and it is still running.
    emu.control(
        "POST",
        "/_ahi/holds",
        Some(&json!({"operation": "cloudfront:CreateDistributionWithTags"})),
    );
    let holder = spawn(&stack, &["up"]);
    let deadline = Instant::now() + WAIT;
    while emu.control("GET", "/_ahi/holds", None)[0]["waiting"] != 1 {
        assert!(
            Instant::now() < deadline,
            "the holder never reached CreateDistributionWithTags"
        );
    }
    let second = stack.run(&["up"]);
    assert_eq!(second.code, 5, "{}", second.stderr);
    let id = lock_id(&second.stderr);
    let unlock = stack.run(&["state", "unlock", &id, "--yes"]);
    assert_eq!(unlock.code, 0, "{}\n{}", unlock.stdout, unlock.stderr);
    assert!(
        unlock.stderr.contains(&format!("(pid {},", holder.id())),
        "{}",
        unlock.stderr
    );
    assert!(
        unlock.stderr.contains(&format!("removed lock {id}")),
        "{}",
        unlock.stderr
    );

    let t = stack.last_seq();
    emu.control("POST", "/_ahi/holds/release", Some(&json!({})));
    let out = Run::from(holder.wait_with_output().unwrap());
    assert_eq!(out.code, 5, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("the state object changed since this run last read or wrote it")
            && out.stderr.contains("stopped before any further AWS write"),
        "{}",
        out.stderr
    );
    // After its refused state write, nothing but its lock's release (gone: 404).
    let calls = stack.calls_since(t);
    let refused = calls
        .iter()
        .position(|c| c["operation"] == "PutObject" && c["path"] == state_path(&stack))
        .expect("the holder's next state write");
    assert_eq!(calls[refused]["status"], 412, "{calls:?}");
    let after: Vec<(String, String, u64)> = calls[refused + 1..]
        .iter()
        .filter(|c| c["operation"].as_str().is_some_and(mutating))
        .map(|c| {
            (
                c["operation"].as_str().unwrap_or("").to_string(),
                c["path"].as_str().unwrap_or("").to_string(),
                c["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(after, [("DeleteObject".to_string(), lock_path(&stack), 404)]);

    // Nothing lost: every resource the emulator holds has its entry.
    let state = state_object(&stack);
    assert_eq!(state["_sse"], "aws:kms", "{state}");
    let entries = &state["resources"];
    let held = emu.resources_of(&stack.name);
    assert_eq!(held.len(), 2, "{held:?}");
    for r in &held {
        match r["type"].as_str() {
            Some("bucket") => {
                assert_eq!(entries["log_bucket"]["physical_id"], r["id"], "{state}");
                assert_eq!(entries["log_bucket"]["state"], "ready");
            }
            Some("distribution") => {
                assert_eq!(entries["distribution"]["state"], "creating", "{state}");
                assert!(entries["distribution"]["token"].is_string(), "{state}");
            }
            other => panic!("unexpected {other:?}: {r}"),
        }
    }
    // The next run adopts what the stopped one made: no duplicate.
    let (code, up) = stack.json(&["up"]);
    assert_eq!(code, 0, "{up}");
    let distribution = up["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "distribution")
        .cloned()
        .unwrap();
    assert!(distribution.to_string().contains("adopted"), "{distribution}");
    assert_eq!(stack.cloudfront_held().get("distribution"), Some(&1));
    let run = stack.run(&["down", "--wait-replicas", "--purge-logs", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(emu.resources_of(&stack.name), Vec::<Value>::new());
}

/// Starts `up`, parks its first state write in flight and SIGKILLs the
/// run there; then the write lands (`lands`: the run died just after it)
/// or is dropped (the run died just before it). False when the run ended
/// without writing its state.
fn kill_at_its_first_state_write(stack: &Stack, lands: bool) -> (bool, u32) {
    let emu = stack.emu;
    let path = state_path(stack);
    let hold = emu.control(
        "POST",
        "/_ahi/holds",
        Some(&json!({"operation": "s3:PutObject", "path": path})),
    );
    let waiting = |emu: &Emulator| {
        emu.control("GET", "/_ahi/holds", None)
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == hold["id"])
            .map(|h| h["waiting"].as_u64().unwrap_or(0))
            .unwrap_or(0)
    };
    let t = stack.last_seq();
    let mut child = stack.spawn(&["up"]);
    let pid = child.id();
    let deadline = Instant::now() + WAIT;
    loop {
        if waiting(emu) == 1 {
            child.kill().unwrap();
            child.wait().unwrap();
            let release = json!({"id": hold["id"], "drop": !lands});
            emu.control("POST", "/_ahi/holds/release", Some(&release));
            while waiting(emu) == 1 || (lands && calls_at(stack, t, "PutObject", &path).is_empty()) {
                assert!(Instant::now() < deadline, "the released write never ended");
            }
            return (true, pid);
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "up failed before it wrote its state");
            emu.control("DELETE", "/_ahi/holds", None);
            return (false, pid);
        }
        assert!(Instant::now() < deadline, "no state write came");
    }
}

#[test]
fn a_first_up_killed_at_every_state_write_then_unlocked_converges_without_duplicates() {
    let emu = &Emulator::start();
    let stack = team(emu, "t-state-kill", "");
    // Each state write of a first `up`, twice: killed just before it lands
    // (the next run repeats that step), then just after.
    let mut kills = 0;
    loop {
        let lands = kills % 2 == 1;
        let (killed, pid) = kill_at_its_first_state_write(&stack, lands);
        if !killed {
            break;
        }
        kills += 1;
        assert!(kills <= 20, "more kills than a first up has state writes");
        // The killed run's lock stays: the next run names it, and it goes.
        let blocked = stack.run(&["up"]);
        assert_eq!(blocked.code, 5, "{}", blocked.stderr);
        assert!(
            blocked.stderr.contains(&format!("(pid {pid},")),
            "{}",
            blocked.stderr
        );
        let unlock = stack.run(&["state", "unlock", &lock_id(&blocked.stderr), "--yes"]);
        assert_eq!(unlock.code, 0, "{}", unlock.stderr);
    }
    eprintln!("a first up killed {kills} times, before and after each state write");
    // Two resources: an intent and a ready record each, two kills per write.
    assert_eq!(kills, 8, "a first up of two resources writes its state 4 times");
    let t = stack.last_seq();
    stack.up();
    assert_eq!(stack_writes(&stack, t), Vec::<String>::new());
    assert_eq!(stack.cloudfront_held().get("distribution"), Some(&1));
    let held = stack.held();
    assert_eq!(
        held,
        BTreeMap::from([("bucket".to_string(), 1), ("distribution".to_string(), 1)])
    );
    let entries = state_object(&stack)["resources"].clone();
    assert_eq!(entries["distribution"]["state"], "ready", "{entries}");
    assert_eq!(entries["log_bucket"]["state"], "ready", "{entries}");
    let run = stack.run(&["down", "--wait-replicas", "--purge-logs", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(emu.resources_of(&stack.name), Vec::<Value>::new());
}

#[test]
fn a_pushed_state_serves_a_second_directory_from_status_to_down() {
    let emu = &Emulator::start();
    state_bucket(emu);
    let name = "t-state-push";
    // One operator's stack, with its local lockfile.
    let local = Stack {
        emu,
        name: name.to_string(),
        dir: tempfile::tempdir().unwrap(),
    };
    std::fs::write(local.path().join("profile.toml"), routes_profile(name)).unwrap();
    local.up();
    let url = format!("s3://{BUCKET}/{}", key(name));
    let push = local.run(&["state", "push", "--to", &url]);
    assert_eq!(push.code, 0, "{}\n{}", push.stdout, push.stderr);
    assert!(push.stderr.contains("has no versioning"), "{}", push.stderr);
    let again = local.run(&["state", "push", "--to", &url]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(
        again.stderr.contains("already holds the state of stack"),
        "{}",
        again.stderr
    );
    let lockfile = std::fs::read_to_string(local.path().join("profile.lock")).unwrap();
    let pushed = state_object(&local);
    assert_eq!(pushed["_sse"], "AES256", "{pushed}");
    assert_eq!(
        pushed["resources"].as_object().map(|r| r.len()),
        Some(2),
        "{pushed}"
    );
    assert!(
        lockfile.contains(
            pushed["resources"]["distribution"]["physical_id"]
                .as_str()
                .unwrap()
        )
    );

    // A teammate's (or CI's) directory: the profile with [state], no lockfile.
    let team = team(emu, name, "");
    assert!(!team.path().join("profile.lock").exists());
    let t = team.last_seq();
    let status = team.run(&["status"]);
    assert_eq!(status.code, 0, "{}\n{}", status.stdout, status.stderr);
    assert!(
        status.stderr.contains(&format!("state: {url} (S3, us-east-1)")),
        "{}",
        status.stderr
    );
    let plan = team.run(&["plan"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr.contains("does not block public access"),
        "{}",
        plan.stderr
    );
    // The team secures its bucket (these calls are the test's, not ahi-edge's).
    let own_from = team.last_seq();
    emu.boto3(&format!(
        "s3 = client('s3')\n\
         s3.put_bucket_versioning(Bucket='{BUCKET}', VersioningConfiguration={{'Status': 'Enabled'}})\n\
         s3.put_public_access_block(Bucket='{BUCKET}', PublicAccessBlockConfiguration={{'BlockPublicAcls': True,\n    \
             'IgnorePublicAcls': True, 'BlockPublicPolicy': True, 'RestrictPublicBuckets': True}})\n\
         print(json.dumps(True))"
    ));
    let own = own_from + 1..=team.last_seq();
    let plan = team.run(&["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        !plan.stderr.contains("warning: the state bucket"),
        "{}",
        plan.stderr
    );

    // An unchanged `up`: one read, one lock, one unlock, and no other write.
    let u = team.last_seq();
    team.up();
    assert_eq!(stack_writes(&team, u), Vec::<String>::new());
    let state_calls: Vec<String> = team
        .calls_since(u)
        .iter()
        .filter(|c| {
            c["path"]
                .as_str()
                .unwrap_or("")
                .starts_with(&format!("/{BUCKET}/"))
        })
        .map(|c| {
            format!(
                "{} {}",
                c["operation"].as_str().unwrap(),
                c["path"].as_str().unwrap()
            )
        })
        .collect();
    let (state, lock) = (state_path(&team), lock_path(&team));
    assert_eq!(
        state_calls,
        [
            format!("PutObject {lock}"),
            format!("GetObject {state}"),
            format!("DeleteObject {lock}")
        ]
    );

    // pull: a local copy that reads back as the same state.
    let pull = team.run(&["state", "pull", "--to", "copy.lock"]);
    assert_eq!(pull.code, 0, "{}", pull.stderr);
    let copy = std::fs::read_to_string(team.path().join("copy.lock")).unwrap();
    assert!(
        copy.contains(
            pushed["resources"]["distribution"]["physical_id"]
                .as_str()
                .unwrap()
        )
    );
    assert_eq!(team.run(&["state", "pull", "--to", "copy.lock"]).code, 2);
    let (code, shown) = team.json(&["state", "show"]);
    assert_eq!(code, 0, "{shown}");
    assert_eq!(shown["backend"], "s3");
    assert_eq!(shown["lock"], Value::Null);
    assert_eq!(shown["resources"].as_array().map(Vec::len), Some(2), "{shown}");

    // Without any profile: the state named on the command line.
    let bare = tempfile::tempdir().unwrap();
    let flags = [
        "--profile",
        "absent.toml",
        "--state",
        &url,
        "--state-region",
        "us-east-1",
        "--json",
    ];
    let status = emu.ahi_edge(&[&flags[..], &["status"]].concat(), bare.path());
    assert_eq!(status.code, 0, "{}\n{}", status.stdout, status.stderr);
    let doc: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(
        (doc["lockfile"].as_str(), doc["state"].as_str()),
        (Some(url.as_str()), Some("healthy"))
    );
    let outputs = emu.ahi_edge(&[&flags[..], &["outputs"]].concat(), bare.path());
    assert_eq!(outputs.code, 0, "{}", outputs.stderr);

    let run = team.run(&["down", "--wait-replicas", "--purge-logs", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(emu.resources_of(name), Vec::<Value>::new());
    assert_eq!(state_object(&team), Value::Null, "down removes the state object");
    assert!(!team.path().join("profile.lock").exists());

    // The printed policy allowed every call of the teammate's lifecycle.
    let (code, policy) = team.json(&["iam-policy"]);
    assert_eq!(code, 0, "{policy}");
    let denied: Vec<String> = team
        .calls_since(t)
        .iter()
        .filter(|c| !own.contains(&c["seq"].as_u64().unwrap_or(0)))
        .filter_map(|c| {
            Some((
                c["service"].as_str()?.to_string(),
                c["operation"].as_str()?.to_string(),
            ))
        })
        .filter(|(service, op)| match action_for(service, op) {
            None => true,
            Some(action) => !action.is_empty() && !allows(&policy, action),
        })
        .map(|(service, op)| format!("{service} {op}"))
        .collect();
    assert!(denied.is_empty(), "not allowed by the printed policy: {denied:?}");
}

#[test]
fn the_state_table_and_flags_are_checked_before_anything_runs() {
    let base = routes_profile("t-state-check");
    validate(&(base.clone() + "\n[state]\nbackend = \"s4\"\nbucket = \"b-1\"\nkey = \"k\"\n"))
        .exit(2)
        .has_error(
            "state.backend = \"s4\"",
            "is not a supported value",
            "use one of: local, s3",
        );
    validate(&(base.clone() + "\n[state]\nbackend = \"s3\"\nkey = \"k\"\n"))
        .exit(2)
        .has_error(
            "state.bucket",
            "missing: the S3 bucket that holds the state",
            "add bucket",
        );
    validate(&(base.clone() + "\n[state]\nbackend = \"s3\"\nbucket = \"Team_State\"\nkey = \"a//b\"\n"))
        .exit(2)
        .has_error(
            "state.bucket = \"Team_State\"",
            "is not an S3 bucket name",
            "use the bucket's exact name",
        )
        .has_error(
            "state.key = \"a//b\"",
            "has an empty, `.` or `..` path segment",
            "use a key such as",
        );
    validate(
        &(base.clone()
            + "\n[state]\nbackend = \"s3\"\nbucket = \"team-state\"\nkey = \"k\"\nregion = \"eu-west-1\"\n\
               kms_key_id = \"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"\n"),
    )
    .exit(2)
    .has_error("state.kms_key_id", "the state bucket is in eu-west-1", "in the bucket's region");
    validate(&(base.clone() + "\n[state]\nbackend = \"local\"\nbucket = \"team-state\"\n"))
        .exit(2)
        .has_error(
            "state.bucket = \"team-state\"",
            "is an S3 setting",
            "remove it, or set backend = \"s3\"",
        );
    let ok = validate(
        &(base.clone() + "\n[state]\nbackend = \"s3\"\nbucket = \"team-state\"\nkey = \"ahi-edge/p.lock\"\n"),
    );
    ok.exit(0);
    assert!(
        ok.run
            .stdout
            .contains("state in S3: s3://team-state/ahi-edge/p.lock (us-east-1)"),
        "{}",
        ok.run.stdout
    );
    assert!(!ok.path.with_extension("lock").exists());

    // Flags: a bad URL, and a local lockfile beside an S3 profile.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        base.clone() + &state_table("t-state-check", ""),
    )
    .unwrap();
    let bad = crate::support::run(
        &["status", "--profile", "p.toml", "--state", "s3://team-state"],
        dir.path(),
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains("--state = \"s3://team-state\": names a bucket but no key"),
        "{}",
        bad.stderr
    );
    let both = crate::support::run(
        &["status", "--profile", "p.toml", "--lockfile", "x.lock"],
        dir.path(),
    );
    assert_eq!(both.code, 2, "{}", both.stderr);
    assert!(
        both.stderr.contains("the profile keeps the state in S3"),
        "{}",
        both.stderr
    );
    assert!(!Path::new(&dir.path().join("x.lock")).exists());

    // A state bucket that does not exist: bad input, before any stack call.
    let emu = crate::emulator::emulator();
    let name = "t-state-nobucket";
    let text = routes_profile(name)
        + "\n[state]\nbackend = \"s3\"\nbucket = \"t-state-no-such-bucket\"\nkey = \"p.lock\"\n";
    std::fs::write(dir.path().join("nobucket.toml"), text).unwrap();
    let up = emu.ahi_edge(&["up", "--profile", "nobucket.toml"], dir.path());
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr
            .contains("the state bucket t-state-no-such-bucket does not exist"),
        "{}",
        up.stderr
    );
    assert_eq!(emu.resources_of(name), Vec::<Value>::new());
}
