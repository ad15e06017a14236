//! The bucket grant's Sid and ownership (issue 23), checked with boto3 and
//! through the local edge:
//! - stacks whose names differ only in hyphens (`timg-site`, `timgsite`)
//!   keep their own grants in one bucket;
//! - a grant written under the earlier Sid (hyphens dropped) is moved to
//!   the new Sid by `up` and removed by `down`;
//! - a statement under our Sid that we would not write is never adopted:
//!   `plan` and `up` refuse before any write, naming the bucket, the Sid
//!   and the fix;
//! - a bucket policy that already lets everyone read is a warning of
//!   `plan` and `up`.

use serde_json::{Value, json};

use ahi_edge::kinds::bucket_grant::{legacy_sid, sid};

use crate::emulator::Emulator;
use crate::stack::Stack;

/// A routes-only stack: one private bucket behind the default route.
fn site<'a>(emu: &'a Emulator, name: &str, bucket: &str) -> Stack<'a> {
    let stack = Stack::new(emu, "reverse-proxy", name, &[]);
    std::fs::write(
        stack.path().join("profile.toml"),
        format!(
            "[stack]\nname = \"{name}\"\nregion = \"us-east-1\"\n\n\
             [origins.site]\nkind = \"s3\"\nbucket = \"{bucket}\"\n\n\
             [[routes]]\npath = \"*\"\norigin = \"site\"\n"
        ),
    )
    .unwrap();
    stack
}

/// A bucket with one object and the user's own policy statement (a
/// Python literal).
fn bucket(emu: &Emulator, bucket: &str, statement: &str) {
    emu.boto3(&format!(
        "s3 = client('s3')\n\
         s3.create_bucket(Bucket='{bucket}')\n\
         s3.put_object(Bucket='{bucket}', Key='hello.txt', Body=b'hello from {bucket}')\n\
         s3.put_bucket_policy(Bucket='{bucket}', Policy=json.dumps({{'Version': '2012-10-17', 'Statement': [{statement}]}}))\n\
         print('null')"
    ));
}

fn policy(emu: &Emulator, bucket: &str) -> Value {
    emu.boto3(&format!(
        "print(client('s3').get_bucket_policy(Bucket='{bucket}')['Policy'])"
    ))
}

fn sids(emu: &Emulator, bucket: &str) -> Vec<String> {
    policy(emu, bucket)["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn statement_of(emu: &Emulator, bucket: &str, sid: &str) -> Value {
    policy(emu, bucket)["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid)
        .cloned()
        .unwrap_or(Value::Null)
}

fn domain(stack: &Stack) -> String {
    let (_, outputs) = stack.json(&["outputs"]);
    outputs["distribution_domain"].as_str().unwrap().to_string()
}

/// The stack as a version before issue 23 left it: its grant, live and in
/// the lockfile, under the Sid that dropped hyphens.
fn as_before_issue_23(emu: &Emulator, stack: &Stack, bucket: &str) {
    let (new, old) = (sid(&stack.name), legacy_sid(&stack.name));
    emu.boto3(&format!(
        "s3 = client('s3')\n\
         doc = json.loads(s3.get_bucket_policy(Bucket='{bucket}')['Policy'])\n\
         for s in doc['Statement']:\n    \
             if s.get('Sid') == '{new}':\n        \
                 s['Sid'] = '{old}'\n\
         s3.put_bucket_policy(Bucket='{bucket}', Policy=json.dumps(doc))\n\
         print('null')"
    ));
    let path = stack.path().join("profile.lock");
    let lock = std::fs::read_to_string(&path).unwrap();
    let needle = format!(r#""Sid":"{new}""#);
    assert_eq!(lock.matches(&needle).count(), 1, "{lock}");
    std::fs::write(&path, lock.replace(&needle, &format!(r#""Sid":"{old}""#))).unwrap();
}

const THEIRS: &str = "{'Sid': 'TheirAuditRead', 'Effect': 'Allow', 'Principal': {'AWS': 'arn:aws:iam::123456789012:role/audit'}, 'Action': 's3:GetObject', 'Resource': 'arn:aws:s3:::t-grant-shared/audit/*'}";

#[test]
fn stacks_differing_in_hyphens_keep_their_grants_and_old_sids_are_migrated_and_removed() {
    let emu = &Emulator::start();
    let shared = "t-grant-shared";
    bucket(emu, shared, THEIRS);
    let before = policy(emu, shared);
    let hyphen = site(emu, "timg-site", shared);
    let plain = site(emu, "timgsite", shared);
    assert_ne!(sid("timg-site"), sid("timgsite"));
    assert_eq!(legacy_sid("timg-site"), sid("timgsite"), "the old collision");

    // timg-site deployed by an earlier version: its grant under the Sid
    // timgsite now uses.
    hyphen.up();
    let hyphen_domain = domain(&hyphen);
    as_before_issue_23(emu, &hyphen, shared);
    assert_eq!(sids(emu, shared), ["TheirAuditRead", &legacy_sid("timg-site")]);
    let (code, status) = hyphen.json(&["status"]);
    assert_eq!(code, 0, "the legacy grant is found as the stack's own: {status}");

    // timgsite must not take that statement over: refused before any write.
    let t = plain.last_seq();
    for command in ["plan", "up"] {
        let run = plain.run(&[command]);
        assert_eq!(run.code, 2, "{command}: {}\n{}", run.stdout, run.stderr);
        for part in [
            format!(
                "bucket {shared}'s policy has a statement with Sid {}",
                sid("timgsite")
            ),
            "Condition".to_string(),
            "remove that statement from the bucket's policy, or give it another Sid".to_string(),
            "run `ahi-edge up` for that stack first".to_string(),
        ] {
            assert!(
                run.stderr.contains(&part),
                "{command}: no {part:?} in:\n{}",
                run.stderr
            );
        }
    }
    assert_eq!(plain.writes_since(t), Vec::<String>::new(), "nothing written");
    assert!(
        plain.lockfile().is_none_or(|l| !l.contains("[resources.")),
        "nothing recorded"
    );

    // timg-site's next `up` moves its grant to its own Sid: one policy write.
    let (code, plan) = hyphen.json(&["plan"]);
    assert_eq!(code, 4, "{plan}");
    let grant = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == format!("grant/{shared}"))
        .cloned()
        .unwrap();
    assert_eq!(
        (grant["action"].clone(), grant["fields"].clone()),
        (json!("update"), json!(["statement"]))
    );
    let t = hyphen.last_seq();
    hyphen.up();
    assert_eq!(hyphen.writes_since(t), ["PutBucketPolicy"]);
    assert_eq!(sids(emu, shared), ["TheirAuditRead", &sid("timg-site")]);
    let t = hyphen.last_seq();
    hyphen.up();
    assert_eq!(
        hyphen.writes_since(t),
        Vec::<String>::new(),
        "an unchanged up writes nothing"
    );

    // Now timgsite deploys beside it: two grants, each for its own distribution.
    plain.up();
    let plain_domain = domain(&plain);
    assert_eq!(
        sids(emu, shared),
        ["TheirAuditRead", &sid("timg-site"), &sid("timgsite")]
    );
    let hyphen_arn =
        statement_of(emu, shared, &sid("timg-site"))["Condition"]["StringEquals"]["AWS:SourceArn"].clone();
    let plain_arn =
        statement_of(emu, shared, &sid("timgsite"))["Condition"]["StringEquals"]["AWS:SourceArn"].clone();
    assert_ne!(hyphen_arn, plain_arn);
    for domain in [&hyphen_domain, &plain_domain] {
        let (status, body) = emu.viewer(domain, "GET", "/hello.txt", &[]);
        assert_eq!(
            (status, body.as_str()),
            (200, "hello from t-grant-shared"),
            "{domain}"
        );
    }

    // `down` of one leaves the other's grant alone.
    let run = plain.run(&["down", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(sids(emu, shared), ["TheirAuditRead", &sid("timg-site")]);
    assert_eq!(emu.viewer(&hyphen_domain, "GET", "/hello.txt", &[]).0, 200);

    // A stack still on the old Sid is cleaned up by `down` too.
    as_before_issue_23(emu, &hyphen, shared);
    let run = hyphen.run(&["down", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(policy(emu, shared), before, "the user's policy, as it was");
}

#[test]
fn a_foreign_statement_under_our_sid_is_refused_and_public_read_is_a_warning() {
    let emu = &Emulator::start();
    let name = "t-grant-own";
    let own = "t-grant-own-site";
    bucket(
        emu,
        own,
        &format!(
            "{{'Sid': 'Audit', 'Effect': 'Allow', 'Principal': {{'AWS': 'arn:aws:iam::123456789012:role/audit'}}, 'Action': 's3:GetObject', 'Resource': 'arn:aws:s3:::{own}/audit/*'}}"
        ),
    );
    let stack = site(emu, name, own);
    stack.up();
    // Someone widens "our" statement by hand: still our Sid, no longer ours.
    emu.boto3(&format!(
        "s3 = client('s3')\n\
         doc = json.loads(s3.get_bucket_policy(Bucket='{own}')['Policy'])\n\
         for s in doc['Statement']:\n    \
             if s.get('Sid') == '{sid}':\n        \
                 s['Action'] = 's3:*'\n\
         s3.put_bucket_policy(Bucket='{own}', Policy=json.dumps(doc))\n\
         print('null')",
        sid = sid(name)
    ));
    let widened = policy(emu, own);
    let t = stack.last_seq();
    for command in ["plan", "up"] {
        let run = stack.run(&[command]);
        assert_eq!(run.code, 2, "{command}: {}\n{}", run.stdout, run.stderr);
        for part in [
            format!("bucket {own}'s policy has a statement with Sid {}", sid(name)),
            "that ahi-edge would not write (Action \"s3:*\")".to_string(),
            "it is not adopted, changed or removed".to_string(),
            "nothing was changed".to_string(),
            format!("give it another Sid than {}", sid(name)),
        ] {
            assert!(
                run.stderr.contains(&part),
                "{command}: no {part:?} in:\n{}",
                run.stderr
            );
        }
    }
    assert_eq!(
        stack.writes_since(t),
        Vec::<String>::new(),
        "refused before any write"
    );
    assert_eq!(policy(emu, own), widened, "the statement is left as it is");
    let (_, status) = stack.json(&["status"]);
    let grant = status["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == format!("grant/{own}"))
        .cloned()
        .unwrap();
    assert_eq!(grant["health"], "not-owned", "{status}");

    // Put ours back, and let everyone read one prefix: a warning, not a refusal.
    emu.boto3(&format!(
        "s3 = client('s3')\n\
         doc = json.loads(s3.get_bucket_policy(Bucket='{own}')['Policy'])\n\
         for s in doc['Statement']:\n    \
             if s.get('Sid') == '{sid}':\n        \
                 s['Action'] = ['s3:GetObject']\n\
         doc['Statement'].append({{'Sid': 'PublicAssets', 'Effect': 'Allow', 'Principal': {{'AWS': '*'}},\n    \
             'Action': 's3:Get*', 'Resource': 'arn:aws:s3:::{own}/assets/*'}})\n\
         s3.put_bucket_policy(Bucket='{own}', Policy=json.dumps(doc))\n\
         print('null')",
        sid = sid(name)
    ));
    let warning = format!(
        "warning: bucket {own}'s policy (statement PublicAssets) lets anyone (Principal \"*\") read its objects: they can be fetched from S3 directly, bypassing CloudFront's origin access control"
    );
    let run = stack.run(&["--json", "plan"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(&warning), "{}", run.stderr);
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    let step = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == format!("grant/{own}"))
        .cloned()
        .unwrap();
    assert!(
        step["warning"]
            .as_str()
            .unwrap()
            .contains("bypassing CloudFront's origin access control"),
        "{step}"
    );
    let t = stack.last_seq();
    let run = stack.run(&["up"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(&warning), "{}", run.stderr);
    assert_eq!(
        stack.writes_since(t),
        Vec::<String>::new(),
        "a warning changes nothing"
    );
}

/// The key policy statement a warning prints (the JSON after `put-key-policy): `).
fn printed_statement(stderr: &str) -> Value {
    let marker = "then put-key-policy): ";
    let at = stderr
        .find(marker)
        .unwrap_or_else(|| panic!("no statement in:\n{stderr}"))
        + marker.len();
    serde_json::Deserializer::from_str(&stderr[at..])
        .into_iter::<Value>()
        .next()
        .unwrap()
        .unwrap()
}

#[test]
fn an_sse_kms_bucket_warns_with_the_statement_that_makes_it_readable_then_stops() {
    let emu = &Emulator::start();
    let (name, own) = ("t-grant-kms", "t-grant-kms-site");
    let key = emu.boto3(&format!(
        "kms, s3 = client('kms'), client('s3')\n\
         key = kms.create_key()['KeyMetadata']['Arn']\n\
         s3.create_bucket(Bucket='{own}')\n\
         s3.put_bucket_encryption(Bucket='{own}', ServerSideEncryptionConfiguration={{'Rules': [\n    \
             {{'ApplyServerSideEncryptionByDefault': {{'SSEAlgorithm': 'aws:kms', 'KMSMasterKeyID': key}}}}]}})\n\
         for name in ('before.txt', 'after.txt'):\n    \
             s3.put_object(Bucket='{own}', Key=name, Body=b'kms bytes')\n\
         print(json.dumps(key))"
    ));
    let key = key.as_str().unwrap().to_string();
    let stack = site(emu, name, own);
    let lead = format!("warning: bucket {own} encrypts new objects with SSE-KMS under key {key}");

    // First up: the distribution does not exist yet, so the statement names a placeholder.
    let run = stack.run(&["up"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(&lead), "{}", run.stderr);
    assert!(
        run.stderr.contains("DISTRIBUTION_ID: `ahi-edge outputs`"),
        "{}",
        run.stderr
    );
    let domain = domain(&stack);
    assert_eq!(
        emu.viewer(&domain, "GET", "/before.txt", &[]).0,
        403,
        "the key's policy admits the account only"
    );

    // plan now prints the exact statement, for this distribution.
    let t = stack.last_seq();
    let run = stack.run(&["plan"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("does not let CloudFront decrypt"),
        "{}",
        run.stderr
    );
    let statement = printed_statement(&run.stderr);
    let (_, outputs) = stack.json(&["outputs"]);
    assert_eq!(
        statement["Condition"]["StringEquals"]["AWS:SourceArn"],
        format!(
            "arn:aws:cloudfront::123456789012:distribution/{}",
            outputs["distribution_id"].as_str().unwrap()
        ),
        "{statement}"
    );

    // The user adds it as printed (boto3): the edge reads the objects.
    emu.boto3(&format!(
        "kms = client('kms')\n\
         doc = json.loads(kms.get_key_policy(KeyId='{key}', PolicyName='default')['Policy'])\n\
         doc['Statement'].append(json.loads('{statement}'))\n\
         kms.put_key_policy(KeyId='{key}', PolicyName='default', Policy=json.dumps(doc))\n\
         print('null')"
    ));
    let (status, body) = emu.viewer(&domain, "GET", "/after.txt", &[]);
    assert_eq!((status, body.as_str()), (200, "kms bytes"));
    let run = stack.run(&["up"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        !run.stderr.contains("SSE-KMS"),
        "no warning once the statement is in place:\n{}",
        run.stderr
    );
    assert_eq!(
        stack.writes_since(t),
        ["PutKeyPolicy"],
        "plan and up read; the one write is the user's own (boto3)"
    );

    // The AWS managed key can never be used: a warning with the fix.
    emu.boto3(&format!(
        "client('s3').put_bucket_encryption(Bucket='{own}', ServerSideEncryptionConfiguration={{'Rules': [\n    \
             {{'ApplyServerSideEncryptionByDefault': {{'SSEAlgorithm': 'aws:kms'}}}}]}})\n\
         print('null')"
    ));
    let run = stack.run(&["plan"]);
    assert!(
        run.stderr.contains(&format!(
            "warning: bucket {own} encrypts new objects with SSE-KMS under the AWS managed key aws/s3"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("SSE-S3 (AES256) or a customer managed KMS key"),
        "{}",
        run.stderr
    );
}
