//! `down` and `down --wait-replicas`, against the emulator's modelled
//! Lambda@Edge replica lifecycle, checked with boto3 and the inventory.

use serde_json::{Value, json};

use crate::emulator::{Emulator, TIME_SCALE, emulator};
use crate::stack::{Stack, kept_logs};

fn function_exists(emu: &Emulator, name: &str) -> bool {
    emu.boto3(&format!(
        "lam = client('lambda')\n\
         try:\n\
         \x20   lam.get_function(FunctionName='{name}'); print('true')\n\
         except lam.exceptions.ResourceNotFoundException:\n\
         \x20   print('false')"
    ))
    .as_bool()
    .unwrap()
}

#[test]
fn up_then_down_wait_replicas_leaves_only_the_log_bucket_and_purge_leaves_nothing() {
    let emu = emulator();
    let kept = Stack::new(emu, "ahi-delivery", "t-down-keep", &[]);
    let purged = Stack::new(emu, "ahi-delivery-noauth", "t-down-purge", &[]);
    kept.up();
    purged.up();
    let (code, report) = kept.json(&["down", "--wait-replicas", "--yes"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        (&report["schema"], &report["result"]),
        (&json!(1), &json!("done")),
        "{report}"
    );
    // Every recorded resource deleted, but the log bucket, kept with the why.
    let results = report["resources"].as_array().unwrap();
    let kept_ones: Vec<&Value> = results.iter().filter(|r| r["status"] != "deleted").collect();
    assert_eq!(kept_ones.len(), 1, "{report}");
    assert_eq!(
        (&kept_ones[0]["id"], &kept_ones[0]["status"]),
        (&json!("log_bucket"), &json!("kept"))
    );
    assert!(
        kept_ones[0]["message"].as_str().unwrap().contains("--purge-logs"),
        "{report}"
    );
    assert!(results.len() > 20, "{report}");
    assert_eq!(kept.held(), kept_logs(true));
    assert!(
        kept.lockfile().is_none(),
        "the lockfile is removed when everything is gone"
    );
    assert!(!function_exists(emu, "t-down-keep-edge-auth"));
    let (code, status) = kept.json(&["status"]);
    assert_eq!((code, &status["deployed"]), (4, &json!(false)), "{status}");
    assert_eq!(status["state"], "not-deployed");
    // A later `down --purge-logs` still finds the kept bucket and the
    // replicas' log groups by their names.
    let run = kept.run(&["down", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(kept.held().is_empty(), "{:?}", kept.held());

    let run = purged.run(&["down", "--wait-replicas", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(purged.held().is_empty(), "{:?}", purged.held());
}

#[test]
fn down_without_waiting_exits_3_then_a_second_down_finishes_once_replicas_are_gone() {
    let emu = emulator();
    let stack = Stack::new(emu, "ahi-delivery", "t-down-later", &[]);
    stack.up();
    let run = stack.run(&["down", "--yes"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("t-down-later-edge-auth: CloudFront still holds replicas"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("finish with: ahi-edge down --profile profile.toml"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("--wait-replicas --yes"), "{}", run.stdout);
    let lock = stack.lockfile().unwrap();
    assert!(lock.contains("state = \"awaiting-replicas\""), "{lock}");
    assert!(function_exists(emu, "t-down-later-edge-auth"));
    let mut held = stack.held();
    held.remove("replica");
    let mut want = kept_logs(true);
    want.extend([("function".to_string(), 1), ("role".into(), 1)]);
    assert_eq!(held, want);
    let (code, status) = stack.json(&["status"]);
    assert_eq!(
        (code, &status["state"]),
        (3, &json!("awaiting-replicas")),
        "{status}"
    );
    let function = status["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "edge_function")
        .cloned()
        .unwrap();
    assert_eq!(function["health"], "awaiting-replicas");
    assert!(
        !function["replicas"].as_object().unwrap().is_empty(),
        "{function}"
    );

    // The emulator drops the replicas after its modelled delay; poll as an
    // operator would, with status (for at most two minutes: the modelled
    // delay is seconds at the tests' scale).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "status still lists replicas after 2 minutes"
        );
        let (_, status) = stack.json(&["status"]);
        let replicas: Vec<&Value> = status["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["replicas"].as_object())
            .flat_map(|m| m.values())
            .collect();
        if replicas.is_empty() {
            break;
        }
    }
    let run = stack.run(&["down", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(stack.held(), kept_logs(true));
}

#[test]
fn a_timeout_shorter_than_the_replica_wait_exits_3_naming_functions_regions_and_the_resume_command() {
    let emu = emulator();
    let stack = Stack::new(emu, "ahi-delivery", "t-down-timeout", &[]);
    stack.up();
    let run = stack.run(&["down", "--wait-replicas", "--timeout", "5m", "--yes"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("t-down-timeout-edge-auth: still replicated after --timeout 5m"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("us-east-1=1"), "{}", run.stdout);
    // The resume command repeats the flags that reach this stack (the
    // lockfile is the profile's default, so it is left out).
    let resume = format!(
        "finish with: ahi-edge down --profile profile.toml --endpoint-url {} --wait-replicas --yes",
        stack.emu.endpoint
    );
    assert!(run.stdout.contains(&resume), "{}", run.stdout);
    assert!(stack.lockfile().unwrap().contains("awaiting-replicas"));
    let run = stack.run(&["down", "--wait-replicas", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// Kills `down` at five moments, among them the distribution's disable wait
/// and the replica wait; the next `down --wait-replicas` finishes.
#[test]
fn down_killed_at_five_moments_still_finishes_with_nothing_left() {
    let emu = &Emulator::start();
    let stack = Stack::new(emu, "ahi-delivery", "t-killdown", &[]);
    stack.up();
    for operation in [
        "UpdateDistribution",
        "GetDistribution",
        "DeleteDistribution",
        "DeleteLoadBalancer",
        "ListFunctions",
    ] {
        assert!(
            stack.kill_at(&["down", "--wait-replicas", "--yes", "--purge-logs"], operation),
            "down finished before {operation}"
        );
    }
    let run = stack.run(&["down", "--wait-replicas", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(stack.held().is_empty(), "{:?}", stack.held());
}

/// The teardown faults AWS really produces, each injected once, plus
/// throttling: all retried. The replica wait's ListFunctions calls stay
/// within the documented budget: in steady state at most one per region per
/// 30 s of modelled time.
#[test]
fn teardown_retries_aws_faults_and_keeps_the_replica_poll_within_budget() {
    let emu = &Emulator::start();
    let stack = Stack::new(emu, "ahi-delivery", "t-downfaults", &[]);
    stack.up();
    for fault in [
        json!({"operation": "DeleteDistribution", "kind": "error", "code": "DistributionNotDisabled", "status": 409, "message": "The distribution you are trying to delete has not been disabled.", "nth": 1}),
        json!({"operation": "UpdateDistribution", "kind": "error", "code": "PreconditionFailed", "status": 412, "message": "The request failed because it didn't meet the preconditions in one or more request-header fields.", "nth": 1}),
        json!({"operation": "DeleteSecurityGroup", "kind": "error", "code": "DependencyViolation", "message": "resource sg has a dependent object", "nth": 1, "times": 2}),
        json!({"operation": "*", "kind": "throttle", "fraction": 0.05, "seed": 3}),
    ] {
        emu.control("POST", "/_ahi/faults", Some(&fault));
    }
    let before = stack.last_seq();
    let run = stack.run(&["down", "--wait-replicas", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let faults = emu.control("GET", "/_ahi/faults", None);
    for f in faults.as_array().unwrap().iter().take(3) {
        assert!(f["fired"].as_u64().unwrap() >= 1, "a fault never fired: {f}");
    }
    assert_eq!(stack.held(), kept_logs(true));

    let scale: f64 = TIME_SCALE.parse().unwrap();
    let calls = stack.calls_since(before);
    let mut by_region: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for c in calls
        .iter()
        .filter(|c| c["operation"] == "ListFunctions" && c["status"] == 200)
    {
        by_region
            .entry(c["region"].as_str().unwrap().into())
            .or_default()
            .push(c["t"].as_f64().unwrap());
    }
    assert!(!by_region.is_empty());
    for (region, times) in &by_region {
        // The first polls ramp up (10, 15, 22.5 s...); from the fifth on the
        // interval is steady at 48-60 s, never under 30 s modelled.
        for gap in times.windows(2).skip(4).map(|w| (w[1] - w[0]) / scale) {
            assert!(
                gap >= 30.0,
                "{region}: two ListFunctions {gap:.1} s (modelled) apart"
            );
        }
    }
}

/// `down` deletes only what its lockfile records and what carries its tags.
#[test]
fn look_alikes_and_unrecorded_resources_survive_down() {
    let emu = emulator();
    let stack = Stack::new(emu, "ahi-delivery-noauth", "t-lookalike", &[]);
    stack.up();
    emu.boto3(
        "iam = client('iam')\n\
         name = 't-lookalike-proxy-exec'\n\
         for p in iam.list_attached_role_policies(RoleName=name)['AttachedPolicies']:\n\
         \x20   iam.detach_role_policy(RoleName=name, PolicyArn=p['PolicyArn'])\n\
         for p in iam.list_role_policies(RoleName=name)['PolicyNames']:\n\
         \x20   iam.delete_role_policy(RoleName=name, PolicyName=p)\n\
         iam.delete_role(RoleName=name)\n\
         iam.create_role(RoleName=name, AssumeRolePolicyDocument='{}')\n\
         iam.create_role(RoleName='t-lookalike-extra', AssumeRolePolicyDocument='{}')\n\
         print('null')",
    );
    let run = stack.run(&["down", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("left alone"), "{}", run.stderr);
    let left = emu.boto3(
        "roles = [r['RoleName'] for r in client('iam').list_roles()['Roles'] if r['RoleName'].startswith('t-lookalike')]\n\
         print(json.dumps(sorted(roles)))",
    );
    assert_eq!(left, json!(["t-lookalike-extra", "t-lookalike-proxy-exec"]));
}

#[test]
fn down_refuses_without_yes_off_a_terminal_and_changes_nothing() {
    let emu = emulator();
    let stack = Stack::new(emu, "ahi-delivery-noauth", "t-down-ask", &[]);
    stack.up();
    let lock = stack.lockfile().unwrap();
    let run = stack.run(&["down"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("needs confirmation, but stdin is not a terminal"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("fix: pass --yes"), "{}", run.stderr);
    assert_eq!(stack.lockfile().unwrap(), lock);
    let (code, _) = stack.json(&["status"]);
    assert_eq!(code, 0);
    let run = stack.run(&["down", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// CloudFront remembers every CallerReference ever sent: with one fixed
/// reference per stack, a stack taken down could never be made again.
/// Each create sends a new one, so up -> down -> up -> down works.
#[test]
fn up_down_up_down_works_though_caller_references_are_spent_forever() {
    let emu = emulator();
    let stack = Stack::new(emu, "ahi-delivery", "t-again", &[]);
    let mut references = Vec::new();
    for _ in 0..2 {
        stack.up();
        let lock = stack.lockfile().unwrap();
        let reference = lock
            .split("[resources.distribution]")
            .nth(1)
            .and_then(|s| s.lines().find(|l| l.starts_with("token = ")))
            .unwrap()
            .to_string();
        references.push(reference);
        let run = stack.run(&["down", "--wait-replicas", "--purge-logs", "--yes"]);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert!(
            stack.held().into_keys().all(|k| k == "replica"),
            "{:?}",
            stack.held()
        );
    }
    assert_ne!(references[0], references[1]);
}

/// A replica in a region the profile does not poll: no configured region
/// lists one, yet the delete refuses. `down --wait-replicas` says so and
/// asks again only every steady interval (no busy loop), until --timeout.
#[test]
fn a_replica_in_an_unpolled_region_is_waited_out_at_the_steady_interval() {
    let emu = &Emulator::start();
    emu.control(
        "POST",
        "/_ahi/config",
        Some(&json!({"replica_regions": ["ca-central-1"]})),
    );
    let stack = Stack::new(emu, "ahi-delivery", "t-unpolled", &[]);
    stack.up();
    let after = stack.last_seq();
    let run = stack.run(&["down", "--wait-replicas", "--timeout", "10m", "--yes"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("none listed in the configured regions (")
            && run.stdout.contains("the delete still refuses"),
        "{}",
        run.stdout
    );
    let deletes = stack
        .calls_since(after)
        .iter()
        .filter(|c| c["operation"] == "DeleteFunction")
        .count();
    // 10 minutes at one attempt per steady minute (48-60 s with jitter),
    // plus the first: a busy loop would make thousands.
    assert!((2..=14).contains(&deletes), "{deletes} DeleteFunction calls");
}
