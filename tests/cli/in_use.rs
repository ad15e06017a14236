//! CloudFront's "in use" after a distribution is gone (#27, item 6): the
//! OAC, key group and public key a deleted distribution named stay in use
//! until CloudFront lets go (the emulator's `distribution_release`, a
//! figure AWS does not publish). `down` waits for that as long as a
//! distribution deploy may take, not a fixed few minutes; past that it
//! fails saying why and how to resume, and the same command run again
//! finishes. Each test has its own emulator: the delay is emulator-wide.

use serde_json::json;

use crate::emulator::Emulator;
use crate::stack::Stack;

/// How long (modelled seconds) CloudFront holds what a deleted distribution named.
fn release_after(emu: &Emulator, seconds: u64) {
    emu.control(
        "POST",
        "/_ahi/config",
        Some(&json!({"delays": {"distribution_release": seconds}})),
    );
}

/// The calls of `operation` since `after` that CloudFront refused as in use.
fn refused_in_use(stack: &Stack, after: u64, operation: &str) -> usize {
    stack
        .calls_since(after)
        .iter()
        .filter(|c| c["operation"] == operation && c["status"] == 409)
        .count()
}

#[test]
fn down_outwaits_a_release_longer_than_the_old_five_minutes() {
    let emu = &Emulator::start();
    let stack = crate::signed::setup(emu, "t-inuse-wait");
    stack.up();
    // Ten times the five minutes the deletes used to be retried for, well
    // inside a distribution deploy's 90.
    release_after(emu, 3000);
    let after = stack.last_seq();
    let down = stack.run(&["down", "--yes"]);
    assert_eq!(down.code, 0, "{}\n{}", down.stdout, down.stderr);
    assert!(
        refused_in_use(&stack, after, "DeleteOriginAccessControl") > 0,
        "the OAC was released before down asked: nothing was waited for"
    );
    assert_eq!(stack.cloudfront_held(), Default::default());
    assert!(
        stack
            .lockfile()
            .is_none_or(|l| !l.contains("origin_access_control"))
    );
}

#[test]
fn past_a_deploys_length_down_fails_saying_so_and_the_same_command_resumes() {
    let emu = &Emulator::start();
    let stack = crate::signed::setup(emu, "t-inuse-resume");
    stack.up();
    // Longer than the 90 minutes a delete waits for.
    release_after(emu, 8000);
    let down = stack.run(&["down", "--yes"]);
    assert_ne!(down.code, 0, "{}\n{}", down.stdout, down.stderr);
    let said = format!("{}{}", down.stdout, down.stderr);
    for part in [
        "deleting cloudfront-origin-access-control",
        "CloudFront still answers in use (OriginAccessControlInUse) after 90 minutes",
        "the same command run again resumes the delete",
    ] {
        assert!(said.contains(part), "no {part:?} in:\n{said}");
    }
    // Still recorded, still there: nothing forgotten that AWS still holds.
    assert!(stack.lockfile().unwrap().contains("origin_access_control"));
    assert!(
        stack.cloudfront_held().contains_key("OriginAccessControl"),
        "{:?}",
        stack.cloudfront_held()
    );
    // By the time a second down has waited its turn, CloudFront lets go.
    let again = stack.run(&["down", "--yes"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(stack.cloudfront_held(), Default::default());
}
