//! CloudFront's account quotas (#27, item 5), read from Service Quotas and
//! counted before the first write: a routes profile the account cannot
//! hold is refused by `plan` and `up` naming the quota, its code, its value
//! and the increase command, with no write call (the emulator's call log);
//! within the quota it goes on. Each test has its own emulator: its quotas
//! and "no write" must not meet other tests'.

use serde_json::json;

use crate::emulator::Emulator;
use crate::preflight::refused;
use crate::stack::Stack;

/// `plan` passes the pre-flight (exit 4: everything to create) and writes nothing.
fn accepted(stack: &Stack) -> String {
    let after = stack.last_seq();
    let plan = stack.run(&["plan"]);
    assert_eq!(plan.code, 4, "{}\n{}", plan.stdout, plan.stderr);
    assert_eq!(stack.writes_since(after), Vec::<String>::new());
    plan.stderr
}

/// The reverse-proxy template with `extra` more routes to the API before
/// the default route (each one more cache behaviour).
fn with_routes<'a>(emu: &'a Emulator, name: &str, extra: usize) -> Stack<'a> {
    // The template's buckets, as a user's would exist.
    emu.boto3(
        "s3 = client('s3')\n\
         have = [b['Name'] for b in s3.list_buckets()['Buckets']]\n\
         for b in ('example-storage', 'example-thumbnails', 'example-app'):\n    \
             if b not in have:\n        \
                 s3.create_bucket(Bucket=b)\n\
         print('null')",
    );
    let routes: String = (0..extra)
        .map(|i| {
            format!(
                "[[routes]]\npath = \"/extra{i}/*\"\norigin = \"api\"\nstrip_prefix = \"/extra{i}\"\nbare_path = \"elsewhere\"\n\n"
            )
        })
        .collect();
    Stack::new(
        emu,
        "reverse-proxy",
        name,
        &[(
            "[[routes]]\npath = \"*\"",
            &format!("{routes}[[routes]]\npath = \"*\""),
        )],
    )
}

#[test]
fn more_cache_behaviours_than_the_accounts_quota_are_refused_before_any_write() {
    let emu = &Emulator::start();
    // The account's applied quota: 24 behaviours besides the default.
    emu.control(
        "POST",
        "/_ahi/config",
        Some(&json!({"quotas": {"cache_behaviors": 24}})),
    );
    // 26 routes: 25 cache behaviours besides the default one.
    let stack = with_routes(emu, "t-quota-behaviours", 21);
    // Offline, the profile's default setting (AWS's default, 75) lets it pass.
    assert_eq!(stack.run(&["validate"]).code, 0);
    refused(
        &stack,
        &[
            "26 routes make 25 cache behaviours besides the default",
            "the account's quota \"Cache behaviors per distribution\" (L-F432D044) is 24",
            "aws service-quotas request-service-quota-increase --service-code cloudfront --quota-code L-F432D044 --desired-value 25 --region us-east-1",
        ],
    );
    // One route fewer fits; the quota was read, not assumed.
    let stack = with_routes(emu, "t-quota-fits", 20);
    accepted(&stack);
    let reads: Vec<String> = stack
        .calls_since(0)
        .iter()
        .filter(|c| c["service"] == "servicequotas")
        .filter_map(|c| c["operation"].as_str().map(str::to_string))
        .collect();
    assert!(reads.contains(&"GetServiceQuota".to_string()), "{reads:?}");
}

#[test]
fn public_keys_and_key_groups_are_counted_across_the_account_before_any_write() {
    let emu = &Emulator::start();
    let stack = crate::signed::setup(emu, "t-quota-keys");
    // Two public keys and a key group of somebody else's, in an account
    // whose quotas are exactly full.
    emu.boto3(
        "from cryptography.hazmat.primitives import serialization\n\
         from cryptography.hazmat.primitives.asymmetric import rsa\n\
         cf = client('cloudfront')\n\
         ids = []\n\
         for i in range(2):\n    \
             pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(\n        \
                 serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()\n    \
             ids.append(cf.create_public_key(PublicKeyConfig={'CallerReference': f'other-{i}', 'Name': f'other-{i}', 'EncodedKey': pem})['PublicKey']['Id'])\n\
         group = cf.create_key_group(KeyGroupConfig={'Name': 'other', 'Items': ids})['KeyGroup']\n\
         print(json.dumps(group['Id']))",
    );
    emu.control(
        "POST",
        "/_ahi/config",
        Some(&json!({"quotas": {"public_keys": 2, "key_groups": 1}})),
    );
    refused(
        &stack,
        &[
            "signers: this run creates 1 public keys beside the 2 the account holds; the account's quota \"Public keys per AWS account\" (L-302B5900) is 2",
            "--quota-code L-302B5900 --desired-value 3",
            "signers: this run creates 1 key groups beside the 1 the account holds; the account's quota \"Key groups per AWS account\" (L-D64DA6E2) is 1",
            "fix: delete key groups nothing uses",
        ],
    );
    // Room for one more of each: the run goes on.
    emu.control(
        "POST",
        "/_ahi/config",
        Some(&json!({"quotas": {"public_keys": 3, "key_groups": 2}})),
    );
    accepted(&stack);
}

#[test]
fn without_service_quotas_the_profiles_settings_stand_in_and_a_note_says_so() {
    let emu = &Emulator::start();
    emu.control(
        "POST",
        "/_ahi/config",
        Some(&json!({"quotas": {"cache_behaviors": 24}})),
    );
    for operation in [
        "servicequotas:GetServiceQuota",
        "servicequotas:GetAWSDefaultServiceQuota",
    ] {
        emu.control(
            "POST",
            "/_ahi/faults",
            Some(&json!({"operation": operation, "kind": "error", "code": "AccessDeniedException",
                         "message": "User is not authorized to perform: servicequotas:GetServiceQuota", "nth": 1, "times": 1000})),
        );
    }
    // The account cannot be asked: the profile's [cloudfront.quotas] (75
    // by default) decides, and the note names what to allow.
    let stack = with_routes(emu, "t-quota-denied", 21);
    let said = accepted(&stack);
    assert!(
        said.contains("CloudFront's quotas could not be read from Service Quotas (GetServiceQuota answered AccessDeniedException)"),
        "{said}"
    );
    assert!(said.contains("allow servicequotas:GetServiceQuota"), "{said}");
}
