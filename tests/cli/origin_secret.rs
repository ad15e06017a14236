//! The origin secret against the emulator, checked with boto3.

use ahi_edge::resources::Change;
use ahi_edge::resources::origin_secret::{self, OriginSecretSpec};
use serde_json::json;

use crate::emulator::emulator;
use crate::support::BASE_PROFILE;

fn client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&emulator().sdk_config())
}

fn spec(stack: &str) -> OriginSecretSpec {
    let text = BASE_PROFILE.replace("name = \"ahi-delivery\"", &format!("name = \"{stack}\""));
    let profile = ahi_edge::profile::check(std::path::Path::new("p.toml"), &text)
        .profile
        .unwrap();
    OriginSecretSpec::for_profile(&profile)
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
    let spec = spec("secret-life");
    let (recorded, change) = origin_secret::ensure(&client(), &spec).await.unwrap();
    assert_eq!(change, Change::Created);
    assert!(
        recorded.arn.contains("ahi-edge/secret-life/origin-header"),
        "{}",
        recorded.arn
    );
    let seen = boto3_value(&spec.name);
    let value = seen["value"].as_str().unwrap().to_string();
    assert_eq!(value.len(), 32);
    assert!(
        value.bytes().all(|b| b.is_ascii_alphanumeric()),
        "no punctuation: {value}"
    );
    assert_eq!(seen["stack"], "secret-life");

    let (again, change) = origin_secret::ensure(&client(), &spec).await.unwrap();
    assert_eq!((again.clone(), change), (recorded.clone(), Change::Unchanged));
    let (held, version) = origin_secret::value(&client(), &recorded.arn).await.unwrap();
    assert_eq!(
        (held.expose(), version.as_str()),
        (value.as_str(), recorded.version_id.as_str())
    );
    assert!(
        !format!("{held:?} {again:?}").contains(&value),
        "the value never prints"
    );

    origin_secret::delete(&client(), &spec.name, "secret-life")
        .await
        .unwrap();
    origin_secret::delete(&client(), &spec.name, "secret-life")
        .await
        .unwrap();
    // No recovery window: the stack can be created again at once.
    let (fresh, change) = origin_secret::ensure(&client(), &spec).await.unwrap();
    assert_eq!(change, Change::Created);
    assert_ne!(
        boto3_value(&spec.name)["value"],
        json!(value),
        "a new stack gets a new value"
    );
    assert_ne!(fresh.version_id, recorded.version_id);
}

#[tokio::test]
async fn a_look_alike_secret_is_neither_adopted_nor_deleted() {
    let spec = spec("secret-foreign");
    emulator().boto3(&format!(
        "client('secretsmanager').create_secret(Name='{}', SecretString='theirs')\nprint(json.dumps(True))",
        spec.name
    ));
    let refused = origin_secret::ensure(&client(), &spec).await.unwrap_err();
    assert!(
        refused
            .message
            .contains("does not carry the tag ahi-edge:stack = secret-foreign"),
        "{refused}"
    );
    assert!(
        origin_secret::delete(&client(), &spec.name, "secret-foreign")
            .await
            .is_err()
    );
    assert_eq!(boto3_value(&spec.name)["value"], "theirs");
}
