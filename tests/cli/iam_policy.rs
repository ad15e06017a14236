//! `ahi-edge iam-policy`: every AWS call a whole lifecycle makes (up, a
//! change, status, plan, down --wait-replicas --purge-logs) is allowed by
//! the printed policy, per the emulator's call log.

use std::collections::BTreeSet;

use ahi_edge::iam_policy::{action_for, allows};
use serde_json::Value;

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

    let calls: BTreeSet<(String, String)> = emu
        .calls()
        .iter()
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
    assert!(statements.iter().any(|s| s["Sid"] == "PassStackRoles"));
}
