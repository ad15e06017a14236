//! A route's bucket in another region than the stack (issue 27, item 1).
//! The emulator answers a bucket's calls only in its region (301
//! PermanentRedirect elsewhere, as S3 does), so before this every call of
//! the grant failed after CreateDistribution. Checked with boto3 in the
//! bucket's region and through the local edge:
//! - a `region` key naming the wrong region is refused before any write;
//! - without the key, the first `up` finds the bucket's region and
//!   converges, and an unchanged `up` writes nothing;
//! - a grant recorded in the stack's region (as a version before this
//!   recorded it) is read by `status`, corrected by `up` with no write, and
//!   removed by `down`.

use serde_json::Value;

use crate::emulator::Emulator;
use crate::stack::Stack;

const STACK: &str = "t-region";
const BUCKET: &str = "far-eu-site";

fn profile(stack: &Stack, region_line: &str) {
    std::fs::write(
        stack.path().join("profile.toml"),
        format!(
            "[stack]\nname = \"{STACK}\"\nregion = \"us-east-1\"\n\n\
             [origins.site]\nkind = \"s3\"\nbucket = \"{BUCKET}\"\n{region_line}\n\
             [[routes]]\npath = \"*\"\norigin = \"site\"\n"
        ),
    )
    .unwrap();
}

/// Our statement in the bucket's policy, read in the bucket's region.
fn grant_in_eu(emu: &Emulator) -> Value {
    emu.boto3(&format!(
        "s3 = client('s3', region='eu-west-1')\n\
         try:\n    doc = json.loads(s3.get_bucket_policy(Bucket='{BUCKET}')['Policy'])\n\
         except s3.exceptions.ClientError:\n    doc = {{'Statement': []}}\n\
         print(json.dumps([s for s in doc['Statement'] if s.get('Sid', '').startswith('AhiEdge')]))"
    ))
}

/// The grant's entry recorded in `from` rewritten to `to`, as a version
/// that recorded the stack's region would have left it.
fn record_grant_region(stack: &Stack, from: &str, to: &str) {
    let path = stack.path().join("profile.lock");
    let lock = std::fs::read_to_string(&path).unwrap();
    let header = format!("[resources.\"grant/{BUCKET}\"]\nkind = \"s3-bucket-grant\"\nregion = \"{from}\"");
    assert_eq!(lock.matches(&header).count(), 1, "{lock}");
    let moved = header.replace(&format!("region = \"{from}\""), &format!("region = \"{to}\""));
    std::fs::write(&path, lock.replace(&header, &moved)).unwrap();
}

#[test]
fn a_bucket_in_another_region_is_found_used_and_a_wrong_record_is_repaired() {
    let emu = &Emulator::start();
    emu.boto3(&format!(
        "s3 = client('s3', region='eu-west-1')\n\
         s3.create_bucket(Bucket='{BUCKET}', CreateBucketConfiguration={{'LocationConstraint': 'eu-west-1'}})\n\
         s3.put_object(Bucket='{BUCKET}', Key='hello.txt', Body=b'hello from eu-west-1')\n\
         print('null')"
    ));
    let stack = Stack::new(emu, "reverse-proxy", STACK, &[]);

    // A region key that names the wrong region: refused before any write.
    profile(&stack, "region = \"us-east-1\"\n");
    let t = stack.last_seq();
    for command in ["plan", "up"] {
        let run = stack.run(&[command]);
        assert_eq!(run.code, 2, "{command}: {}\n{}", run.stdout, run.stderr);
        for part in [
            "origins.site.region = \"us-east-1\": bucket far-eu-site is in eu-west-1",
            "nothing was changed",
            "write region = \"eu-west-1\" in [origins.site], or remove the key",
        ] {
            assert!(
                run.stderr.contains(part),
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
    assert!(!stack.path().join("profile.lock").exists() || stack.held().is_empty());

    // No region key: the first up finds the bucket's region and converges.
    profile(&stack, "");
    let run = stack.run(&["up"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "note: origin site: bucket far-eu-site is in eu-west-1, not the stack's region us-east-1"
        ),
        "{}",
        run.stderr
    );
    let grant = grant_in_eu(emu);
    assert_eq!(grant.as_array().map(Vec::len), Some(1), "{grant}");
    let (_, outputs) = stack.json(&["outputs"]);
    let domain = outputs["distribution_domain"].as_str().unwrap().to_string();
    let (status, body) = emu.viewer(&domain, "GET", "/hello.txt", &[]);
    assert_eq!((status, body.as_str()), (200, "hello from eu-west-1"));
    assert!(stack.lockfile().unwrap().contains(&format!(
        "[resources.\"grant/{BUCKET}\"]\nkind = \"s3-bucket-grant\"\nregion = \"eu-west-1\""
    )));
    let t = stack.last_seq();
    let run = stack.run(&["up"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        stack.writes_since(t),
        Vec::<String>::new(),
        "an unchanged up writes nothing"
    );

    // Recorded in the stack's region: status reads it, up corrects the record.
    record_grant_region(&stack, "eu-west-1", "us-east-1");
    let (code, status) = stack.json(&["status"]);
    assert_eq!(code, 0, "{status}");
    let t = stack.last_seq();
    let run = stack.run(&["up"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        stack.writes_since(t),
        Vec::<String>::new(),
        "only the record was wrong"
    );
    record_grant_region(&stack, "eu-west-1", "us-east-1");

    // down from the wrong record: the grant goes too.
    let run = stack.run(&["down", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(grant_in_eu(emu), Value::Array(Vec::new()));
    assert_eq!(emu.resources_of(STACK), Vec::<Value>::new());
}
