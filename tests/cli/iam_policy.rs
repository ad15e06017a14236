//! `ahi-edge iam-policy`: every AWS call a whole lifecycle makes (up, a
//! change, status, plan, down --wait-replicas --purge-logs) is allowed by
//! the printed policy, per the emulator's call log; the policy's conditions
//! (permissions boundary, PassRole's service, the stack's tags), its split
//! into managed-policy-sized parts, and an independent IAM linter over it.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ahi_edge::iam_policy::{action_for, allows};
use serde_json::{Value, json};

use crate::emulator::Emulator;
use crate::stack::Stack;

#[test]
fn the_printed_policy_allows_every_call_of_a_whole_lifecycle() {
    let emu = &Emulator::start();
    let stack = Stack::new(emu, "ahi-delivery", "t-iam", &[]);
    let (code, policy) = stack.json(&["iam-policy"]);
    assert_eq!(code, 0, "{policy}");
    let text = policy.to_string();
    assert!(
        !text.contains("\"Action\":\"*\"") && !text.contains("\"Action\":[\"*\"]"),
        "{text}"
    );

    stack.up();
    stack.edit("desired_count = 1", "desired_count = 2");
    stack.edit("project = \"medical-imaging\"", "project = \"radiology\"");
    stack.up();
    assert_eq!(stack.json(&["status"]).0, 0);
    assert_eq!(stack.json(&["plan"]).0, 0);
    let run = stack.run(&["down", "--wait-replicas", "--purge-logs", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // The administrator's one call before the first `up` (Stack::new
    // creates the permissions boundary), which the deployer must not make.
    assert!(!allows(&policy, "iam:CreatePolicy"));
    let calls: BTreeSet<(String, String)> = emu
        .calls()
        .iter()
        .filter(|c| c["operation"] != "CreatePolicy")
        .filter_map(|c| {
            Some((
                c["service"].as_str()?.to_string(),
                c["operation"].as_str()?.to_string(),
            ))
        })
        .collect();
    assert!(calls.len() > 60, "a whole lifecycle: {calls:?}");
    let mut unknown = Vec::new();
    let mut denied = Vec::new();
    for (service, operation) in &calls {
        match action_for(service, operation) {
            None => unknown.push(format!("{service} {operation}")),
            Some("") => {}
            Some(action) if !allows(&policy, action) => denied.push(action.to_string()),
            Some(_) => {}
        }
    }
    assert!(unknown.is_empty(), "no IAM action known for: {unknown:?}");
    assert!(denied.is_empty(), "the policy does not allow: {denied:?}");
    let statements: Vec<&Value> = policy["Statement"].as_array().unwrap().iter().collect();
    assert!(statements.iter().any(|s| s["Sid"] == "PassTaskRoles"));
}

/// The shipped profiles (every one is linted and checked).
fn shipped() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("profiles");
    let mut all: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    all.sort();
    assert!(all.len() >= 4, "{all:?}");
    all
}

fn printed(profile: &Path, extra: &[&str]) -> Value {
    let out = crate::support::bin()
        .args(["iam-policy", "--profile"])
        .arg(profile)
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn statements(policy: &Value) -> Vec<Value> {
    policy["Statement"].as_array().unwrap().clone()
}

fn actions(s: &Value) -> Vec<String> {
    match &s["Action"] {
        Value::String(a) => vec![a.clone()],
        a => a
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect(),
    }
}

/// Every statement that writes a role or its policies requires the
/// boundary; AttachRolePolicy is pinned to the AWS managed policies the
/// stack uses; PassRole names a service; nothing lets the boundary go.
#[test]
fn role_writes_need_the_boundary_and_passrole_names_the_service_for_every_shipped_profile() {
    const ROLE_WRITES: [&str; 6] = [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:PutRolePermissionsBoundary",
    ];
    let mut seen_regional = 0;
    for profile in shipped() {
        let policy = printed(&profile, &[]);
        let stack = policy.to_string();
        let allow: Vec<Value> = statements(&policy)
            .into_iter()
            .filter(|s| s["Effect"] == "Allow")
            .collect();
        for s in &allow {
            let acts = actions(s);
            assert!(!acts.iter().any(|a| a == "*" || a == "iam:*"), "{s}");
            if acts.iter().any(|a| ROLE_WRITES.contains(&a.as_str())) {
                let boundary = s["Condition"]["ArnEquals"]["iam:PermissionsBoundary"]
                    .as_str()
                    .unwrap_or_default();
                assert!(
                    boundary.starts_with("arn:aws:iam::${aws:PrincipalAccount}:policy/ahi-edge/")
                        && boundary.ends_with("-boundary"),
                    "{}: a role write without the boundary condition: {s}",
                    profile.display()
                );
            }
            if acts.iter().any(|a| a == "iam:AttachRolePolicy") {
                let pinned: Vec<&str> = s["Condition"]["ArnEquals"]["iam:PolicyARN"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect();
                assert!(
                    !pinned.is_empty() && pinned.iter().all(|a| a.starts_with("arn:aws:iam::aws:policy/")),
                    "{s}"
                );
            }
            if acts.iter().any(|a| a == "iam:PassRole") {
                assert_eq!(acts, ["iam:PassRole"], "{s}");
                let service = &s["Condition"]["StringEquals"]["iam:PassedToService"];
                assert!(
                    service == "ecs-tasks.amazonaws.com" || service == "lambda.amazonaws.com",
                    "{s}"
                );
                for r in s["Resource"].as_array().unwrap() {
                    assert!(r.as_str().unwrap().starts_with("arn:aws:iam::*:role/"), "{s}");
                }
            }
            for forbidden in [
                "iam:DeleteRolePermissionsBoundary",
                "iam:CreatePolicy",
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
                "iam:SetDefaultPolicyVersion",
                "iam:UpdateAssumeRolePolicy*",
            ] {
                assert!(!acts.iter().any(|a| a == forbidden), "{s}");
            }
        }
        if !allows(&policy, "iam:CreateRole") {
            continue;
        }
        seen_regional += 1;
        let deny = statements(&policy)
            .into_iter()
            .find(|s| s["Effect"] == "Deny")
            .unwrap_or_else(|| panic!("no Deny in {stack}"));
        for a in [
            "iam:DeleteRolePermissionsBoundary",
            "iam:CreatePolicyVersion",
            "iam:DeletePolicy",
        ] {
            assert!(actions(&deny).iter().any(|d| d == a), "{deny}");
        }
        // The task roles go to ECS tasks only; the authorizer's to Lambda only.
        let passes: Vec<&Value> = allow.iter().filter(|s| actions(s) == ["iam:PassRole"]).collect();
        let to_ecs = passes
            .iter()
            .find(|s| s["Condition"]["StringEquals"]["iam:PassedToService"] == "ecs-tasks.amazonaws.com")
            .unwrap();
        for r in to_ecs["Resource"].as_array().unwrap() {
            let r = r.as_str().unwrap();
            assert!(r.ends_with("-proxy-exec") || r.ends_with("-proxy-task"), "{r}");
        }
        if let Some(to_lambda) = passes
            .iter()
            .find(|s| s["Condition"]["StringEquals"]["iam:PassedToService"] == "lambda.amazonaws.com")
        {
            assert_eq!(to_lambda["Resource"].as_array().unwrap().len(), 1);
            assert!(to_lambda["Resource"][0].as_str().unwrap().ends_with("-edge-auth"));
        }
    }
    assert_eq!(seen_regional, 3, "the three HealthImaging profiles");
}

/// EC2, ELB and ECS writes carry the stack's tag condition wherever the
/// service supports one; what cannot is in docs/permissions.md's table.
#[test]
fn ec2_elb_and_ecs_writes_are_conditioned_on_the_stacks_tag() {
    let profile = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("profiles/ahi-delivery.toml");
    let policy = printed(&profile, &[]);
    let by_sid = |sid: &str| {
        statements(&policy)
            .into_iter()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("no {sid}"))
    };
    for sid in ["Ec2Create", "LoadBalancerCreate", "EcsCreate"] {
        assert_eq!(
            by_sid(sid)["Condition"],
            json!({"StringEquals": {"aws:RequestTag/ahi-edge:stack": "ahi-delivery"}}),
            "{sid}"
        );
    }
    for sid in ["Ec2Network", "LoadBalancer", "EcsClusterAndService"] {
        assert_eq!(
            by_sid(sid)["Condition"],
            json!({"StringEquals": {"aws:ResourceTag/ahi-edge:stack": "ahi-delivery"}}),
            "{sid}"
        );
    }
    for (sid, key) in [
        ("Ec2TagOnCreate", "ec2:CreateAction"),
        ("LoadBalancerTagOnCreate", "elasticloadbalancing:CreateAction"),
        ("EcsTagOnCreate", "ecs:CreateAction"),
    ] {
        assert!(by_sid(sid)["Condition"]["StringEquals"][key].is_array(), "{sid}");
    }
    // No EC2 write on every resource of the region any more.
    assert!(
        !policy.to_string().contains("arn:aws:ec2:us-east-1:*:*\""),
        "{policy}"
    );
    // Task definitions: registered only in the stack's family.
    assert_eq!(
        by_sid("EcsCreate")["Resource"][2],
        "arn:aws:ecs:us-east-1:*:task-definition/ahi-delivery-proxy:*"
    );
}

/// The deployer policy, split, fits IAM's managed policy limit and says
/// exactly what the one document says.
#[test]
fn the_split_policy_fits_the_managed_policy_limit_for_every_shipped_profile() {
    for profile in shipped() {
        let whole = printed(&profile, &[]);
        let parts = printed(&profile, &["--split"]);
        let parts = parts.as_array().unwrap();
        let mut joined = Vec::new();
        for part in parts {
            let size = part.to_string().chars().filter(|c| !c.is_whitespace()).count();
            assert!(size <= 6144, "{}: a part of {size} characters", profile.display());
            joined.extend(statements(part));
        }
        let mut whole = statements(&whole);
        let by_sid = |a: &Value, b: &Value| a["Sid"].as_str().cmp(&b["Sid"].as_str());
        whole.sort_by(by_sid);
        joined.sort_by(by_sid);
        assert_eq!(joined, whole, "{}", profile.display());
    }
}

#[derive(serde::Deserialize)]
struct Accepted {
    accepted: Vec<Entry>,
}

#[derive(serde::Deserialize)]
struct Entry {
    issue: String,
    #[serde(rename = "match")]
    pattern: String,
    reason: String,
}

/// parliament (PyPI, in the emulator's venv) with its community auditors,
/// over the deployer policy and the boundary of every shipped profile:
/// every finding is in the accepted list with a reason, and every entry of
/// the list is still needed.
#[test]
fn the_iam_linter_reports_nothing_beyond_the_accepted_list() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("tests/cli/fixtures/iam-linter-accepted.toml")).unwrap();
    let accepted: Accepted = toml::from_str(&text).unwrap();
    let mut used = vec![false; accepted.accepted.len()];
    let mut unexplained = Vec::new();
    let mut documents = Vec::new();
    for profile in shipped() {
        documents.push((profile.clone(), "", printed(&profile, &[])));
        if std::fs::read_to_string(&profile)
            .unwrap()
            .contains("[healthimaging]")
        {
            documents.push((profile.clone(), "--boundary", printed(&profile, &["--boundary"])));
        }
    }
    for (profile, which, document) in &documents {
        let mut child = Command::new(root.join("tests/emulator/.venv/bin/parliament"))
            .args(["--include-community-auditors", "--json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("parliament from tests/emulator/.venv (run tests/emulator/venv)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(document.to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.trim().is_empty(), "parliament: {stderr}");
        for line in String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            let finding: Value = serde_json::from_str(line).unwrap();
            let issue = finding["issue"].as_str().unwrap();
            let said = format!(
                "{} {} {}",
                finding["detail"], finding["location"], finding["detail"]
            )
            .to_lowercase();
            match accepted
                .accepted
                .iter()
                .position(|e| e.issue == issue && said.contains(&e.pattern.to_lowercase()))
            {
                Some(i) => used[i] = true,
                None => unexplained.push(format!("{} {which}: {issue} {said}", profile.display())),
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "findings not in the accepted list:\n{}",
        unexplained.join("\n")
    );
    for (entry, used) in accepted.accepted.iter().zip(used) {
        assert!(!entry.reason.trim().is_empty(), "{} has no reason", entry.issue);
        assert!(
            used,
            "no finding uses the accepted entry {} {:?}",
            entry.issue, entry.pattern
        );
    }
}

fn boundaries(stack: &Stack) -> Value {
    stack.emu.boto3(&format!(
        "iam = client('iam')\n\
         out = {{}}\n\
         for role in ('{0}-proxy-exec', '{0}-proxy-task'):\n    \
             out[role] = iam.get_role(RoleName=role)['Role'].get('PermissionsBoundary', {{}}).get('PermissionsBoundaryArn')\n\
         print(json.dumps(out))",
        stack.name
    ))
}

/// After `up` every role carries the stack's boundary (read back with
/// boto3); one removed or swapped by hand is drift `plan` reports and `up`
/// puts back, as it adds the boundary to roles of a stack deployed before
/// boundaries (live roles without one).
#[test]
fn up_puts_the_boundary_on_every_role_and_repairs_it() {
    let emu = &Emulator::start();
    let stack = Stack::new(emu, "ahi-delivery-noauth", "t-boundary", &[]);
    stack.up();
    let ours = "arn:aws:iam::123456789012:policy/ahi-edge/t-boundary-boundary";
    assert_eq!(
        boundaries(&stack),
        json!({"t-boundary-proxy-exec": ours, "t-boundary-proxy-task": ours})
    );

    emu.boto3(
        "iam = client('iam')\n\
         wide = iam.create_policy(PolicyName='t-boundary-wide', PolicyDocument=json.dumps({'Version': '2012-10-17', \
         'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}))['Policy']['Arn']\n\
         iam.put_role_permissions_boundary(RoleName='t-boundary-proxy-exec', PermissionsBoundary=wide)\n\
         iam.delete_role_permissions_boundary(RoleName='t-boundary-proxy-task')\n\
         print(json.dumps(True))",
    );
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 4, "changes pending: {plan}");
    assert_eq!(plan["counts"]["update"], 2, "{plan}");
    let text = plan.to_string();
    assert!(text.contains("permissions_boundary"), "{text}");

    let before = stack.last_seq();
    stack.up();
    assert_eq!(
        boundaries(&stack),
        json!({"t-boundary-proxy-exec": ours, "t-boundary-proxy-task": ours})
    );
    let repairs: Vec<String> = stack
        .writes_since(before)
        .into_iter()
        .filter(|w| w.contains("PutRolePermissionsBoundary"))
        .collect();
    assert_eq!(repairs.len(), 2, "{repairs:?}");
    let after = stack.last_seq();
    stack.up();
    assert!(
        !stack.writes_since(after).iter().any(|w| w.contains("iam")),
        "a converged stack makes no IAM write: {:?}",
        stack.writes_since(after)
    );
}

/// Without the boundary an administrator creates, `plan` and `up` refuse
/// before any write, naming the policy and how to create it.
#[test]
fn up_without_the_boundary_is_refused_before_any_write_with_the_fix() {
    let emu = &Emulator::start();
    let stack = Stack::new(emu, "ahi-delivery-noauth", "t-noboundary", &[]);
    emu.boto3(
        "iam = client('iam')\n\
         iam.delete_policy(PolicyArn='arn:aws:iam::123456789012:policy/ahi-edge/t-noboundary-boundary')\n\
         print(json.dumps(True))",
    );
    let before = stack.last_seq();
    for command in ["plan", "up"] {
        let run = stack.run(&[command]);
        assert_eq!(run.code, 2, "{command}: {}\n{}", run.stdout, run.stderr);
        for said in [
            "arn:aws:iam::123456789012:policy/ahi-edge/t-noboundary-boundary does not exist",
            "ahi-edge iam-policy --boundary",
            "--path /ahi-edge/ --policy-name t-noboundary-boundary",
        ] {
            assert!(
                run.stderr.contains(said),
                "{command}: no {said:?} in {}",
                run.stderr
            );
        }
    }
    assert_eq!(stack.writes_since(before), Vec::<String>::new());
    assert_eq!(emu.resources_of("t-noboundary"), Vec::<Value>::new());

    stack.create_boundary();
    stack.up();
}
