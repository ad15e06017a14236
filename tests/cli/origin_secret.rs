//! The origin secret kind against the emulator, checked with boto3.

use ahi_edge::resources::origin_secret;
use ahi_edge::stack::apply::Change;
use serde_json::json;

use crate::emulator::emulator;
use crate::kinds::{self, ctx, ensure, profile};

const KIND: &str = "secretsmanager-secret";

fn client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&emulator().sdk_config())
}

fn spec(stack: &str) -> serde_json::Value {
    let p = profile(stack, &[]);
    kinds::spec(
        &p,
        "origin_secret",
        &ahi_edge::lockfile::Lockfile::new(stack),
        None,
    )
}

fn boto3_value(name: &str) -> serde_json::Value {
    emulator().boto3(&format!(
        "sm = client('secretsmanager')\n\
         d = sm.describe_secret(SecretId='{name}')\n\
         v = sm.get_secret_value(SecretId='{name}')['SecretString']\n\
         print(json.dumps({{'value': v, 'stack': {{t['Key']: t['Value'] for t in d.get('Tags', [])}}.get('ahi-edge:stack')}}))"
    ))
}

#[tokio::test]
async fn created_once_with_a_random_value_then_kept_then_deleted_for_good() {
    let stack = "secret-life";
    let cx = ctx(stack, None);
    let spec = spec(stack);
    let name = spec["name"].as_str().unwrap().to_string();
    let (made, change) = ensure(&cx, KIND, "origin_secret", &spec, None).await.unwrap();
    assert_eq!(change, Change::Created);
    let arn = made.arn.clone().unwrap();
    assert!(arn.contains("ahi-edge/secret-life/origin-header"), "{arn}");
    let seen = boto3_value(&name);
    let value = seen["value"].as_str().unwrap().to_string();
    assert_eq!(value.len(), 32);
    assert!(
        value.bytes().all(|b| b.is_ascii_alphanumeric()),
        "no punctuation: {value}"
    );
    assert_eq!(seen["stack"], "secret-life");

    let mut lock = ahi_edge::lockfile::Lockfile::new(stack);
    kinds::record(&mut lock, "origin_secret", KIND, &made, &spec);
    let entry = lock.resources["origin_secret"].clone();
    let (again, change) = ensure(&cx, KIND, "origin_secret", &spec, Some(&entry))
        .await
        .unwrap();
    assert_eq!(change, Change::Unchanged, "an existing secret keeps its value");
    assert_eq!(again.outputs, made.outputs);
    let (held, version) = origin_secret::value(&client(), &arn).await.unwrap();
    assert_eq!(
        (held.expose(), version.as_str()),
        (value.as_str(), made.outputs["version_id"].as_str())
    );
    assert!(
        !format!("{held:?} {again:?} {spec}").contains(&value),
        "the value never prints, nor reaches the spec"
    );

    let kind = ahi_edge::stack::registry::kind(KIND).unwrap();
    let at = ahi_edge::engine::kind::At::new(
        "origin_secret",
        "us-east-1",
        &spec,
        Some(ahi_edge::stack::recorded(&entry)),
    );
    let opts = ahi_edge::engine::kind::Options {
        wait_replicas: false,
        timeout: std::time::Duration::ZERO,
        purge_logs: false,
        purge_buckets: false,
    };
    kind.delete(&cx, &at, &again, &opts).await.unwrap();
    kind.delete(&cx, &at, &again, &opts).await.unwrap();
    // No recovery window: the stack can be created again at once.
    let (fresh, change) = ensure(&cx, KIND, "origin_secret", &spec, None).await.unwrap();
    assert_eq!(change, Change::Created);
    assert_ne!(
        boto3_value(&name)["value"],
        json!(value),
        "a new stack gets a new value"
    );
    assert_ne!(fresh.outputs["version_id"], made.outputs["version_id"]);
}

#[tokio::test]
async fn a_look_alike_secret_is_neither_adopted_nor_changed() {
    let stack = "secret-foreign";
    let spec = spec(stack);
    let name = spec["name"].as_str().unwrap().to_string();
    emulator().boto3(&format!(
        "client('secretsmanager').create_secret(Name='{name}', SecretString='theirs')\nprint(json.dumps(True))"
    ));
    let refused = ensure(&ctx(stack, None), KIND, "origin_secret", &spec, None)
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("does not carry the tag ahi-edge:stack = secret-foreign"),
        "{refused}"
    );
    assert_eq!(boto3_value(&name)["value"], "theirs");
}
