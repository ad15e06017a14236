//! The ETag-guarded kinds converge alike (issue 22, item 7): the key group,
//! the public key and the Origin Access Control, like the policies,
//! - re-read and write again when an update meets a stale ETag
//!   (`PreconditionFailed`), and
//! - refuse an answer without an ETag as an error naming the operation,
//!   where they used to read it as "not found", so `up` would have created
//!   a second one.
//!
//! Faults from the emulator (an injected 412, a Get answered without its
//! `ETag` header); values checked with boto3.

use serde_json::{Value, json};

use crate::emulator::Emulator;

/// The one key group, public key and OAC the emulator holds (one stack).
fn live(emu: &Emulator) -> Value {
    emu.boto3(
        "cf = client('cloudfront')\n\
         g = cf.list_key_groups()['KeyGroupList']['Items'][0]['KeyGroup']\n\
         k = cf.list_public_keys()['PublicKeyList']['Items'][0]\n\
         o = cf.list_origin_access_controls()['OriginAccessControlList']['Items'][0]\n\
         print(json.dumps({'group': [g['Id'], g['KeyGroupConfig'].get('Comment', '')],\n    \
             'key': [k['Id'], k.get('Comment', '')], 'oac': [o['Id'], o['SigningBehavior']]}))",
    )
}

fn fault(emu: &Emulator, doc: Value) {
    emu.control("POST", "/_ahi/faults", Some(&doc));
}

#[test]
fn key_groups_public_keys_and_the_oac_retry_a_stale_etag_and_refuse_an_answer_without_one() {
    let emu = &Emulator::start();
    let stack = crate::signed::setup(emu, "t-etag");
    stack.up();
    let before = live(emu);

    // A Get without its ETag: an error naming it, and nothing created.
    for operation in ["GetKeyGroup", "GetPublicKey", "GetOriginAccessControl"] {
        fault(
            emu,
            json!({"operation": format!("cloudfront:{operation}"), "kind": "strip_header", "header": "ETag", "nth": 1}),
        );
        let t = stack.last_seq();
        let run = stack.run(&["up"]);
        assert_ne!(run.code, 0, "{operation}: {}\n{}", run.stdout, run.stderr);
        let said = format!("{}\n{}", run.stdout, run.stderr);
        assert!(
            said.contains(&format!("{operation}: the answer has no ETag")),
            "{operation} (exit {}): {said}",
            run.code
        );
        assert_eq!(
            stack.writes_since(t),
            Vec::<String>::new(),
            "{operation}: nothing written"
        );
        assert_eq!(live(emu), before, "{operation}: no second resource");
    }
    let t = stack.last_seq();
    let run = stack.run(&["up"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        stack.writes_since(t),
        Vec::<String>::new(),
        "the next up finds all three"
    );

    // Changed out of band, then each repair meets one stale ETag.
    let (group, key, oac) = (
        before["group"][0].as_str().unwrap().to_string(),
        before["key"][0].as_str().unwrap().to_string(),
        before["oac"][0].as_str().unwrap().to_string(),
    );
    emu.boto3(&format!(
        "cf = client('cloudfront')\n\
         g = cf.get_key_group(Id='{group}')\n\
         c = g['KeyGroup']['KeyGroupConfig']\n\
         c['Comment'] = c['Comment'] + ' (edited)'\n\
         cf.update_key_group(Id='{group}', IfMatch=g['ETag'], KeyGroupConfig=c)\n\
         k = cf.get_public_key(Id='{key}')\n\
         c = k['PublicKey']['PublicKeyConfig']\n\
         c['Comment'] = c.get('Comment', '') + ' (edited)'\n\
         cf.update_public_key(Id='{key}', IfMatch=k['ETag'], PublicKeyConfig=c)\n\
         o = cf.get_origin_access_control(Id='{oac}')\n\
         c = o['OriginAccessControl']['OriginAccessControlConfig']\n\
         c['SigningBehavior'] = 'no-override'\n\
         cf.update_origin_access_control(Id='{oac}', IfMatch=o['ETag'], OriginAccessControlConfig=c)\n\
         print('null')"
    ));
    assert_ne!(live(emu), before);
    for operation in ["UpdateKeyGroup", "UpdatePublicKey", "UpdateOriginAccessControl"] {
        fault(
            emu,
            json!({"operation": format!("cloudfront:{operation}"), "kind": "error", "code": "PreconditionFailed",
                   "status": 412, "nth": 1}),
        );
    }
    let t = stack.last_seq();
    let run = stack.run(&["up"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(live(emu), before, "every edit repaired");
    let mut writes = stack.writes_since(t);
    writes.sort();
    assert_eq!(
        writes,
        [
            "UpdateKeyGroup",
            "UpdateKeyGroup",
            "UpdateOriginAccessControl",
            "UpdateOriginAccessControl",
            "UpdatePublicKey",
            "UpdatePublicKey"
        ],
        "each: one stale write, re-read, one that lands"
    );
}
