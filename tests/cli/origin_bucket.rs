//! A route's bucket the stack creates and owns (`kind = "s3"` with
//! `create = true`, issue 27 item 3), checked with boto3 and through the
//! local edge, never with our `status`:
//! - `up` makes it private (ACLs disabled, SSE-S3, public access blocked),
//!   tagged, granted to the distribution alone, and serves it; `plan` said so;
//! - an unchanged `up` writes nothing; settings changed out of band are
//!   found by `plan` and put back by `up`;
//! - `down` keeps it with its content; a later `up` takes it back by its
//!   tag; `down --purge-buckets` empties it (versions too) and deletes it,
//!   also after a plain `down` forgot it;
//! - a bucket of that name without our tag is refused before any write;
//!   a run killed right after CreateBucket converges on the next `up`;
//! - `create` on another kind of origin is a profile error.

use serde_json::{Value, json};

use ahi_edge::kinds::bucket_grant::sid;

use crate::emulator::Emulator;
use crate::stack::Stack;

/// A routes-only stack serving `bucket`, which it creates.
fn owned_site<'a>(emu: &'a Emulator, name: &str, bucket: &str) -> Stack<'a> {
    let stack = Stack::new(emu, "reverse-proxy", name, &[]);
    std::fs::write(
        stack.path().join("profile.toml"),
        format!(
            "[stack]\nname = \"{name}\"\nregion = \"us-east-1\"\n\n\
             [origins.site]\nkind = \"s3\"\nbucket = \"{bucket}\"\ncreate = true\n\n\
             [[routes]]\npath = \"*\"\norigin = \"site\"\n"
        ),
    )
    .unwrap();
    stack
}

/// The bucket's settings as boto3 reads them (`null` when it does not exist).
fn settings(emu: &Emulator, bucket: &str) -> Value {
    emu.boto3(&format!(
        "s3 = client('s3')\n\
         b = '{bucket}'\n\
         try:\n    s3.head_bucket(Bucket=b)\n\
         except Exception:\n    print('null'); raise SystemExit\n\
         def get(f, *path):\n    \
             try:\n        out = f(Bucket=b)\n    \
             except Exception as e:\n        return None\n    \
             for p in path:\n        out = out[p]\n    \
             return out\n\
         print(json.dumps({{\n    \
             'ownership': get(s3.get_bucket_ownership_controls, 'OwnershipControls', 'Rules', 0, 'ObjectOwnership'),\n    \
             'sse': get(s3.get_bucket_encryption, 'ServerSideEncryptionConfiguration', 'Rules', 0, 'ApplyServerSideEncryptionByDefault', 'SSEAlgorithm'),\n    \
             'block': get(s3.get_public_access_block, 'PublicAccessBlockConfiguration'),\n    \
             'tags': {{t['Key']: t['Value'] for t in (get(s3.get_bucket_tagging, 'TagSet') or [])}},\n    \
             'policy': json.loads(get(s3.get_bucket_policy, 'Policy') or 'null'),\n    \
             'objects': sorted(v['Key'] for v in s3.list_object_versions(Bucket=b).get('Versions', [])),\n\
         }}))"
    ))
}

const ALL_BLOCKED: &str = r#"{"BlockPublicAcls":true,"IgnorePublicAcls":true,"BlockPublicPolicy":true,"RestrictPublicBuckets":true}"#;

fn assert_private(emu: &Emulator, stack: &Stack, bucket: &str) -> Value {
    let got = settings(emu, bucket);
    assert_eq!(got["ownership"], "BucketOwnerEnforced", "{got}");
    assert_eq!(got["sse"], "AES256", "{got}");
    assert_eq!(
        got["block"],
        serde_json::from_str::<Value>(ALL_BLOCKED).unwrap(),
        "{got}"
    );
    assert_eq!(got["tags"]["ahi-edge:stack"], json!(stack.name), "{got}");
    assert_eq!(
        got["tags"]["ahi-edge:resource"],
        json!(format!("bucket/{bucket}")),
        "{got}"
    );
    got
}

fn domain(stack: &Stack) -> String {
    let (_, outputs) = stack.json(&["outputs"]);
    outputs["distribution_domain"].as_str().unwrap().to_string()
}

/// The CreateBucket calls for `bucket` since `after`.
fn creates_of(stack: &Stack, after: u64, bucket: &str) -> usize {
    let calls = stack.calls_since(after);
    calls.iter().filter(|c| is_create_of(c, bucket)).count()
}

/// Whether a logged call is the CreateBucket of `bucket` (path `/bucket`).
fn is_create_of(call: &Value, bucket: &str) -> bool {
    call["operation"] == "CreateBucket"
        && call["path"]
            .as_str()
            .is_some_and(|p| p.trim_matches('/') == bucket)
}

fn put(emu: &Emulator, bucket: &str, key: &str, body: &str) {
    emu.boto3(&format!(
        "client('s3').put_object(Bucket='{bucket}', Key='{key}', Body=b'{body}')\nprint('null')"
    ));
}

#[test]
fn a_bucket_the_stack_creates_is_private_served_repaired_kept_and_purged() {
    let emu = &Emulator::start();
    let bucket = "t-owned-site";
    let stack = owned_site(emu, "t-owned", bucket);
    assert_eq!(settings(emu, bucket), Value::Null);

    // `plan` predicts the create; `up` makes it private and grants it.
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 4, "{plan}");
    let step = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "bucket/t-owned-site");
    assert_eq!(step.map(|s| s["action"].clone()), Some(json!("create")), "{plan}");
    stack.planned_up();
    let got = assert_private(emu, &stack, bucket);
    let statements = got["policy"]["Statement"].as_array().cloned().unwrap_or_default();
    assert_eq!(statements.len(), 1, "only our grant: {got}");
    assert_eq!(statements[0]["Sid"], json!(sid(&stack.name)), "{got}");
    assert_eq!(
        statements[0]["Principal"],
        json!({"Service": "cloudfront.amazonaws.com"}),
        "{got}"
    );

    // Served through the local edge (OAC checked against that grant).
    put(emu, bucket, "hello.txt", "hello from the stack bucket");
    let (status, body) = emu.viewer(&domain(&stack), "GET", "/hello.txt", &[]);
    assert_eq!((status, body.as_str()), (200, "hello from the stack bucket"));

    // Unchanged: no write at all.
    let t = stack.last_seq();
    stack.up();
    assert_eq!(stack.writes_since(t), Vec::<String>::new());

    // Out of band: ACLs back on, public access unblocked, encryption to
    // SSE-KMS, our resource tag replaced. `plan` names each; `up` repairs.
    emu.boto3(&format!(
        "s3 = client('s3')\n\
         b = '{bucket}'\n\
         s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={{'Rules': [{{'ObjectOwnership': 'ObjectWriter'}}]}})\n\
         s3.delete_public_access_block(Bucket=b)\n\
         s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={{'Rules': [{{'ApplyServerSideEncryptionByDefault': {{'SSEAlgorithm': 'aws:kms'}}}}]}})\n\
         s3.put_bucket_tagging(Bucket=b, Tagging={{'TagSet': [{{'Key': 'ahi-edge:stack', 'Value': 't-owned'}}, {{'Key': 'team', 'Value': 'web'}}]}})\n\
         print('null')"
    ));
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 4, "{plan}");
    let step = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "bucket/t-owned-site")
        .unwrap();
    assert_eq!(step["action"], "update", "{plan}");
    let mut fields: Vec<String> = step["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["block_public_access", "encryption", "object_ownership", "tags"],
        "{plan}"
    );
    stack.planned_up();
    let got = assert_private(emu, &stack, bucket);
    assert_eq!(got["tags"].get("team"), None, "{got}");

    // `down` keeps the bucket and its content, and says how to delete it.
    let run = stack.run(&["down", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(
        said.contains("s3://t-owned-site stays") && said.contains("--purge-buckets"),
        "{said}"
    );
    let got = assert_private(emu, &stack, bucket);
    assert_eq!(got["objects"], json!(["hello.txt"]), "{got}");
    assert_eq!(
        got["policy"],
        Value::Null,
        "the grant went with the distribution: {got}"
    );
    assert!(stack.lockfile().is_none(), "down forgets the stack");

    // A later `up` takes it back by its tag: no second CreateBucket.
    let t = stack.last_seq();
    stack.up();
    assert_eq!(creates_of(&stack, t, bucket), 0, "adopted, not re-created");
    assert_eq!(emu.viewer(&domain(&stack), "GET", "/hello.txt", &[]).0, 200);

    // Versioned out of band, with an old version and a delete marker:
    // `down --purge-buckets` empties all of it and deletes the bucket.
    emu.boto3(&format!(
        "s3 = client('s3')\n\
         s3.put_bucket_versioning(Bucket='{bucket}', VersioningConfiguration={{'Status': 'Enabled'}})\n\
         s3.put_object(Bucket='{bucket}', Key='hello.txt', Body=b'v2')\n\
         s3.delete_object(Bucket='{bucket}', Key='hello.txt')\n\
         print('null')"
    ));
    let run = stack.run(&["down", "--yes", "--purge-logs", "--purge-buckets"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(settings(emu, bucket), Value::Null, "purged");
    assert!(stack.held().is_empty(), "nothing left: {:?}", stack.held());
}

#[test]
fn purge_after_a_plain_down_deletes_the_kept_bucket_and_only_ours() {
    let emu = &Emulator::start();
    let bucket = "t-owned-kept";
    let stack = owned_site(emu, "t-kept", bucket);
    stack.up();
    put(emu, bucket, "a.txt", "a");
    let run = stack.run(&["down", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_ne!(settings(emu, bucket), Value::Null, "kept");

    // The lockfile is gone; the profile still names the bucket.
    let run = stack.run(&["down", "--yes", "--purge-buckets"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(settings(emu, bucket), Value::Null, "purged by name and tag");

    // A bucket of that name that is not ours is left alone.
    emu.boto3(&format!(
        "client('s3').create_bucket(Bucket='{bucket}')\nprint('null')"
    ));
    let run = stack.run(&["down", "--yes", "--purge-buckets"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_ne!(settings(emu, bucket), Value::Null, "not ours: kept");
}

#[test]
fn a_foreign_bucket_is_refused_before_any_write_and_a_killed_create_converges() {
    let emu = &Emulator::start();

    // Someone's bucket under the name: refused, naming key, value and fix.
    emu.boto3("client('s3').create_bucket(Bucket='t-taken-name')\nprint('null')");
    let stack = owned_site(emu, "t-taken", "t-taken-name");
    let t = stack.last_seq();
    for command in ["plan", "up"] {
        let run = stack.run(&[command]);
        assert_eq!(run.code, 2, "{command}: {}\n{}", run.stdout, run.stderr);
        for part in [
            "origins.site.bucket = \"t-taken-name\" with create = true",
            "does not carry the tag ahi-edge:stack = t-taken",
            "choose a bucket name nobody uses, or remove create = true in [origins.site]",
        ] {
            assert!(
                run.stderr.contains(part),
                "{command}: no {part:?} in:\n{}",
                run.stderr
            );
        }
    }
    assert_eq!(stack.writes_since(t), Vec::<String>::new(), "nothing written");

    // Killed once S3 answered CreateBucket (before the tags): the next `up`
    // finds the untagged bucket its intent recorded and finishes it.
    let stack = owned_site(emu, "t-killed", "t-killed-bucket");
    let ours = |c: &Value| is_create_of(c, "t-killed-bucket");
    assert!(
        stack.kill_when(&["up"], "our CreateBucket", ours),
        "up ended before our CreateBucket"
    );
    assert_ne!(
        settings(emu, "t-killed-bucket"),
        Value::Null,
        "killed after S3 made it"
    );
    stack.up();
    assert_private(emu, &stack, "t-killed-bucket");
    let creates = creates_of(&stack, 0, "t-killed-bucket");
    assert_eq!(creates, 1, "the killed run's create, adopted: no second one");
    let run = stack.run(&["down", "--yes", "--purge-logs", "--purge-buckets"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(settings(emu, "t-killed-bucket"), Value::Null);
}

#[test]
fn create_is_only_for_a_private_bucket_origin() {
    let emu = &Emulator::start();
    let stack = owned_site(emu, "t-create-key", "t-create-key");
    std::fs::write(
        stack.path().join("profile.toml"),
        "[stack]\nname = \"t-create-key\"\nregion = \"us-east-1\"\n\n\
         [origins.site]\nkind = \"s3_website\"\nbucket = \"t-create-key\"\npublic = true\ncreate = true\n\n\
         [[routes]]\npath = \"*\"\norigin = \"site\"\n",
    )
    .unwrap();
    let run = stack.run(&["validate"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(
        said.contains("create") && said.contains("is only for kind = \"s3\""),
        "{said}"
    );
}
