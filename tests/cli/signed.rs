//! Signed URLs and cookies for private routes, and key rotation: the real
//! binary deploys a signer's public keys and key group, `ahi-edge sign`
//! signs (AWS-LC), and the emulator's local edge verifies as CloudFront
//! does; botocore's CloudFrontSigner is the independent signer.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::emulator::Emulator;
use crate::stack::Stack;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli/fixtures");

fn profile(name: &str, keys: &str) -> String {
    format!(
        "[stack]\nname = \"{name}\"\nregion = \"us-east-1\"\n\n\
         [signers.storage]\nkeys = [{keys}]\n\n\
         [origins.storage]\nkind = \"s3\"\nbucket = \"{name}-storage\"\n\n\
         [origins.app]\nkind = \"s3\"\nbucket = \"{name}-app\"\n\n\
         [[routes]]\npath = \"/storage/*\"\norigin = \"storage\"\nstrip_prefix = \"/storage\"\nsigned = \"storage\"\n\n\
         [[routes]]\npath = \"*\"\norigin = \"app\"\nspa = true\n"
    )
}

const KEY_A: &str = "{ id = \"k1\", public_key = \"signer-a.pub.pem\" }";
const KEY_B: &str = "{ id = \"k2\", public_key = \"signer-b.pub.pem\" }";

/// A stack with one signed route (a key group of one public key) and an S3 route (an OAC); its buckets made.
pub(crate) fn setup<'a>(emu: &'a Emulator, name: &str) -> Stack<'a> {
    emu.boto3(&format!(
        "s3 = client('s3')\n\
         for b in ('{name}-storage', '{name}-app'):\n    \
             s3.create_bucket(Bucket=b)\n\
         s3.put_object(Bucket='{name}-storage', Key='reports/q3.pdf', Body=b'q3 report')\n\
         s3.put_object(Bucket='{name}-app', Key='index.html', Body=b'<html>spa</html>')\n\
         print('null')"
    ));
    let stack = Stack::new(emu, "reverse-proxy", name, &[]);
    std::fs::write(stack.path().join("profile.toml"), profile(name, KEY_A)).unwrap();
    for f in [
        "signer-a.pub.pem",
        "signer-b.pub.pem",
        "signer-a.pem",
        "signer-b.pem",
    ] {
        std::fs::copy(format!("{FIXTURES}/{f}"), stack.path().join(f)).unwrap();
    }
    stack
}

/// `ahi-edge sign` with these arguments: its JSON.
fn sign(stack: &Stack, args: &[&str]) -> Value {
    let mut all = vec!["sign"];
    all.extend_from_slice(args);
    let (code, out) = stack.json(&all);
    assert_eq!(code, 0, "{out}");
    out
}

/// The path and query of a signed URL (the local edge is reached by Host).
fn target(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest[rest.find('/').unwrap()..].to_string()
}

#[test]
fn signed_urls_and_cookies_open_the_private_route_and_rotation_needs_no_deploy() {
    let emu = &Emulator::start();
    let name = "t-signed";
    let stack = setup(emu, name);
    stack.up();
    let (_, outputs) = stack.json(&["outputs"]);
    let domain = outputs["distribution_domain"].as_str().unwrap().to_string();
    let k1 = outputs["signers"][0]["key_pair_id"].as_str().unwrap().to_string();
    assert_eq!(outputs["signers"][0]["key"], "k1", "{outputs}");
    let url = format!("https://{domain}/storage/reports/q3.pdf");

    let signed = sign(
        &stack,
        &[&url, "--signer", "storage", "--private-key-file", "signer-a.pem"],
    );
    assert_eq!(signed["key_pair_id"], k1.as_str());
    let good = target(signed["url"].as_str().unwrap());
    assert_eq!(emu.viewer(&domain, "GET", &good, &[]), (200, "q3 report".into()));
    // Unsigned, tampered, expired, and signed with another key: CloudFront's 403.
    assert_eq!(emu.viewer(&domain, "GET", "/storage/reports/q3.pdf", &[]).0, 403);
    let tampered = good.replacen("Signature=", "Signature=A", 1);
    assert_eq!(emu.viewer(&domain, "GET", &tampered, &[]).0, 403);
    let other_path = good.replacen("q3.pdf", "q4.pdf", 1);
    assert_eq!(
        emu.viewer(&domain, "GET", &other_path, &[]).0,
        403,
        "a signature covers one URL"
    );
    let expired = sign(
        &stack,
        &[
            &url,
            "--signer",
            "storage",
            "--private-key-file",
            "signer-a.pem",
            "--expires",
            "0s",
        ],
    );
    assert_eq!(
        emu.viewer(&domain, "GET", &target(expired["url"].as_str().unwrap()), &[])
            .0,
        403
    );
    let wrong = sign(
        &stack,
        &[&url, "--signer", "storage", "--private-key-file", "signer-b.pem"],
    );
    assert_eq!(
        emu.viewer(&domain, "GET", &target(wrong["url"].as_str().unwrap()), &[])
            .0,
        403
    );
    // The SPA route needs no signature.
    assert_eq!(
        emu.viewer(&domain, "GET", "/dashboard", &[]),
        (200, "<html>spa</html>".into())
    );

    // Signed cookies for the whole prefix (a custom policy).
    let cookies = sign(
        &stack,
        &[
            &format!("https://{domain}/storage/*"),
            "--signer",
            "storage",
            "--private-key-file",
            "signer-a.pem",
            "--policy",
            "--cookies",
        ],
    );
    let jar: Vec<String> = cookies["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{}={}", c["name"].as_str().unwrap(), c["value"].as_str().unwrap()))
        .collect();
    assert_eq!(jar.len(), 3, "{cookies}");
    assert!(jar[0].starts_with("CloudFront-Policy="));
    assert_eq!(
        emu.viewer(
            &domain,
            "GET",
            "/storage/reports/q3.pdf",
            &[("Cookie", &jar.join("; "))]
        )
        .0,
        200
    );
    // The same IP-bound policy from elsewhere: refused.
    let fenced = sign(
        &stack,
        &[
            &url,
            "--signer",
            "storage",
            "--private-key-file",
            "signer-a.pem",
            "--policy",
            "--ip-range",
            "192.0.2.0/24",
        ],
    );
    assert_eq!(
        emu.viewer(&domain, "GET", &target(fenced["url"].as_str().unwrap()), &[])
            .0,
        403
    );

    // botocore's signer and ours agree byte for byte; its URL opens.
    let expires = signed["expires"].as_u64().unwrap();
    let boto = emu.boto3(&format!(
        "import datetime\n\
         from botocore.signers import CloudFrontSigner\n\
         from cryptography.hazmat.primitives import hashes, serialization\n\
         from cryptography.hazmat.primitives.asymmetric import padding\n\
         key = serialization.load_pem_private_key(open('{dir}/signer-a.pem', 'rb').read(), password=None)\n\
         signer = CloudFrontSigner('{k1}', lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA1()))\n\
         print(json.dumps(signer.generate_presigned_url('{url}', date_less_than=datetime.datetime.fromtimestamp({expires}, datetime.timezone.utc))))",
        dir = stack.path().display(),
    ));
    assert_eq!(boto.as_str().unwrap(), signed["url"].as_str().unwrap());
    assert_eq!(
        emu.viewer(&domain, "GET", &target(boto.as_str().unwrap()), &[]).0,
        200
    );

    // Rotation, first up: a new key joins the group. No distribution update.
    stack.edit(KEY_A, &format!("{KEY_A}, {KEY_B}"));
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 4, "{plan}");
    let group = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "cloudfront-key-group")
        .unwrap()
        .clone();
    assert_eq!(group["action"], "update");
    assert_eq!(
        group["deploy"],
        "key group update (seconds, no distribution deploy)"
    );
    let t = stack.last_seq();
    stack.up();
    assert_eq!(stack.writes_since(t), ["CreatePublicKey", "UpdateKeyGroup"]);
    // Signers switch to the new key (the default: the last listed); both work.
    let new = sign(
        &stack,
        &[&url, "--signer", "storage", "--private-key-file", "signer-b.pem"],
    );
    assert_eq!(new["key"], "k2");
    assert_eq!(
        emu.viewer(&domain, "GET", &target(new["url"].as_str().unwrap()), &[])
            .0,
        200
    );
    assert_eq!(
        emu.viewer(&domain, "GET", &good, &[]).0,
        200,
        "the old key still validates"
    );

    // Rotation, second up: the old key leaves the group, then is deleted.
    stack.edit(&format!("{KEY_A}, {KEY_B}"), KEY_B);
    let run = stack.run(&["plan"]);
    assert!(
        run.stdout.contains(&format!(
            "WARNING: URLs and cookies signed with Key-Pair-Id {k1} stop validating"
        )),
        "{}",
        run.stdout
    );
    let t = stack.last_seq();
    stack.up();
    assert_eq!(stack.writes_since(t), ["UpdateKeyGroup", "DeletePublicKey"]);
    assert_eq!(
        emu.viewer(&domain, "GET", &good, &[]).0,
        403,
        "the retired key no longer validates"
    );
    assert_eq!(
        emu.viewer(&domain, "GET", &target(new["url"].as_str().unwrap()), &[])
            .0,
        200
    );

    // A rotation killed after the new key's create converges.
    let key_c = "{ id = \"k3\", public_key = \"signer-a.pub.pem\" }";
    stack.edit(KEY_B, &format!("{KEY_B}, {key_c}"));
    assert!(
        stack.kill_at(&["up"], "CreatePublicKey"),
        "up ended before CreatePublicKey"
    );
    stack.up();
    let again = stack.last_seq();
    stack.up();
    assert_eq!(stack.writes_since(again), Vec::<String>::new());
    let third = sign(
        &stack,
        &[&url, "--signer", "storage", "--private-key-file", "signer-a.pem"],
    );
    assert_eq!(third["key"], "k3");
    assert_eq!(
        emu.viewer(&domain, "GET", &target(third["url"].as_str().unwrap()), &[])
            .0,
        200
    );
    assert_eq!(stack.cloudfront_held().get("PublicKey"), Some(&2));

    // The private key never reaches the lockfile or any output.
    let private = std::fs::read_to_string(stack.path().join("signer-a.pem")).unwrap();
    let body = private.lines().nth(1).unwrap();
    assert!(!stack.lockfile().unwrap().contains(body));
    assert!(!third.to_string().contains(body));

    let run = stack.run(&["down", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        stack.cloudfront_held(),
        BTreeMap::new(),
        "no key, key group or other CloudFront resource of ours"
    );
}

#[test]
fn sign_refuses_what_it_cannot_sign_and_names_the_fix() {
    let emu = &Emulator::start();
    let stack = setup(emu, "t-sign-bad");
    // Not deployed yet: no Key-Pair-Id to sign with.
    let run = stack.run(&[
        "sign",
        "https://d.example/storage/a",
        "--signer",
        "storage",
        "--private-key-file",
        "signer-a.pem",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("key k1 of signer storage is not deployed"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("run `ahi-edge up` first"), "{}", run.stderr);
    let run = stack.run(&[
        "sign",
        "https://d.example/a",
        "--signer",
        "other",
        "--private-key-file",
        "signer-a.pem",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--signer other: the profile has no such signer"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("use one of: storage"), "{}", run.stderr);
    stack.up();
    let run = stack.run(&[
        "sign",
        "https://d.example/storage/a",
        "--signer",
        "storage",
        "--private-key-file",
        "signer-a.pub.pem",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is not a PEM private key"), "{}", run.stderr);
    let run = stack.run(&[
        "sign",
        "https://d.example/storage/*",
        "--signer",
        "storage",
        "--private-key-file",
        "signer-a.pem",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("add --policy"), "{}", run.stderr);
    let run = stack.run(&["down", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// The signer's key group and public key changed out of band (boto3): a
/// foreign key slipped into the group, both comments rewritten (keeping the
/// stack's marker: without it they would be refused as not ours). `plan`
/// names each field, `up` puts them back, boto3 sees them back.
#[test]
fn out_of_band_changes_to_the_key_group_and_public_key_are_found_and_repaired() {
    let emu = &Emulator::start();
    let name = "t-signed-oob";
    let stack = setup(emu, name);
    stack.up();
    let lock = stack.path().join("profile.lock");
    let pem = std::fs::read_to_string(stack.path().join("signer-b.pub.pem")).unwrap();
    let seen = emu.boto3(&format!(
        "import re\n\
         lock = open('{lock}').read()\n\
         cf = client('cloudfront')\n\
         group = re.search(r'\\[resources.\"key_group/storage\"\\][^\\[]*physical_id = \"([^\"]+)\"', lock).group(1)\n\
         key = re.search(r'\\[resources.\"public_key/storage/[^\"]+\"\\][^\\[]*physical_id = \"([^\"]+)\"', lock).group(1)\n\
         foreign = cf.create_public_key(PublicKeyConfig={{'CallerReference': 'foreign', 'Name': 'foreign', 'EncodedKey': {pem:?}}})['PublicKey']['Id']\n\
         got = cf.get_key_group(Id=group)\n\
         config = got['KeyGroup']['KeyGroupConfig']\n\
         config['Items'].append(foreign)\n\
         config['Comment'] = 'ahi-edge stack {name}: changed by hand'\n\
         cf.update_key_group(Id=group, IfMatch=got['ETag'], KeyGroupConfig=config)\n\
         got = cf.get_public_key(Id=key)\n\
         config = got['PublicKey']['PublicKeyConfig']\n\
         config['Comment'] = 'ahi-edge stack {name}: changed by hand'\n\
         cf.update_public_key(Id=key, IfMatch=got['ETag'], PublicKeyConfig=config)\n\
         print(json.dumps({{'group': group, 'key': key, 'foreign': foreign}}))",
        lock = lock.display(),
    ));
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 4, "{plan}");
    let mut changed: Vec<(String, Vec<String>)> = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] != "unchanged")
        .map(|r| {
            let mut fields: Vec<String> = r["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect();
            fields.sort();
            (
                format!(
                    "{} {}",
                    r["kind"].as_str().unwrap(),
                    r["action"].as_str().unwrap()
                ),
                fields,
            )
        })
        .collect();
    changed.sort();
    assert_eq!(
        changed,
        [
            (
                "cloudfront-key-group update".to_string(),
                vec!["comment".to_string(), "keys".to_string()]
            ),
            (
                "cloudfront-public-key update".to_string(),
                vec!["comment".to_string()]
            ),
        ],
        "{plan}"
    );
    let t = stack.last_seq();
    stack.up();
    assert_eq!(stack.writes_since(t).len(), 2, "{:?}", stack.writes_since(t));
    let back = emu.boto3(&format!(
        "cf = client('cloudfront')\n\
         g = cf.get_key_group(Id='{group}')['KeyGroup']['KeyGroupConfig']\n\
         k = cf.get_public_key(Id='{key}')['PublicKey']['PublicKeyConfig']\n\
         cf.delete_public_key(Id='{foreign}', IfMatch=cf.get_public_key(Id='{foreign}')['ETag'])\n\
         print(json.dumps([g['Items'], g['Comment'], k['Comment']]))",
        group = seen["group"].as_str().unwrap(),
        key = seen["key"].as_str().unwrap(),
        foreign = seen["foreign"].as_str().unwrap(),
    ));
    assert_eq!(back[0], serde_json::json!([seen["key"]]));
    assert!(
        back[1]
            .as_str()
            .unwrap()
            .starts_with(&format!("ahi-edge stack {name}:")),
        "{back}"
    );
    assert!(
        back[2]
            .as_str()
            .unwrap()
            .starts_with(&format!("ahi-edge stack {name}:")),
        "{back}"
    );
    let run = stack.run(&["down", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(stack.cloudfront_held(), BTreeMap::new());
}

/// `down`, then `up` with the same key file: CloudFront remembers every
/// CallerReference ever sent (the emulator refuses a deleted key's), so each
/// create sends a new one, recorded with the intent (#27).
#[test]
fn down_then_up_with_the_same_key_file_converges_with_a_new_caller_reference() {
    let emu = &Emulator::start();
    let name = "t-signed-again";
    let stack = setup(emu, name);
    let keys = |emu: &Emulator| {
        emu.boto3(&format!(
            "cf = client('cloudfront')\n\
             keys = [k for k in cf.list_public_keys()['PublicKeyList'].get('Items', []) if k['Name'].startswith('{name}-')]\n\
             print(json.dumps([[k['Name'], cf.get_public_key(Id=k['Id'])['PublicKey']['PublicKeyConfig']['CallerReference']] for k in keys]))"
        ))
    };
    assert_eq!(stack.up().code, 0);
    let first = keys(emu);
    assert_eq!(first.as_array().unwrap().len(), 1, "{first}");
    let after = stack.last_seq();
    stack.up();
    assert_eq!(
        stack.writes_since(after),
        Vec::<String>::new(),
        "the recorded reference stays"
    );
    assert_eq!(stack.run(&["down", "--wait-replicas", "--yes"]).code, 0);
    assert_eq!(keys(emu), serde_json::json!([]));

    let again = stack.up();
    assert_eq!(again.code, 0, "{}", again.stderr);
    let second = keys(emu);
    assert_eq!(
        second[0][0], first[0][0],
        "the same key, by its content-derived name"
    );
    assert_ne!(second[0][1], first[0][1], "a new CallerReference");
    assert_eq!(stack.json(&["plan"]).0, 0, "plan settles");
    assert_eq!(stack.run(&["down", "--wait-replicas", "--yes"]).code, 0);
}
