//! The cache policy resource against the emulator: real SDK calls over
//! HTTP, results checked with boto3 and the emulator's call log.

use ahi_edge::kinds::cache_policy::{Api, CachePolicySpec};
use ahi_edge::kinds::cloudfront_policy::{self as etag, EtagApi};
use aws_sdk_cloudfront::Client;
use serde_json::{Value, json};

use crate::emulator::emulator;

fn client() -> Client {
    Client::new(&emulator().sdk_config())
}

fn spec(stack: &str, headers: &[&str]) -> CachePolicySpec {
    CachePolicySpec {
        name: format!("{stack}-cache"),
        comment: format!("ahi-edge stack {stack}"),
        min_ttl: 0,
        default_ttl: 86_400,
        max_ttl: 31_536_000,
        headers: headers.iter().map(|h| h.to_string()).collect(),
        cookies: "none".into(),
        query_strings: "all".into(),
        query_string_names: vec![],
        gzip: true,
        brotli: true,
    }
}

/// The policy as boto3 sees it.
fn boto3_config(id: &str) -> Value {
    emulator().boto3(&format!(
        "c = client('cloudfront').get_cache_policy_config(Id='{id}')['CachePolicyConfig']\n\
         p = c['ParametersInCacheKeyAndForwardedToOrigin']\n\
         print(json.dumps({{'name': c['Name'], 'ttl': [c['MinTTL'], c['DefaultTTL'], c['MaxTTL']],\n    \
           'headers': sorted(p['HeadersConfig'].get('Headers', {{}}).get('Items', [])),\n    \
           'gzip': p['EnableAcceptEncodingGzip'], 'brotli': p['EnableAcceptEncodingBrotli'],\n    \
           'query': p['QueryStringsConfig']['QueryStringBehavior'], 'cookies': p['CookiesConfig']['CookieBehavior']}}))"
    ))
}

/// Write calls that named this policy (tests share the emulator, so the
/// log is filtered by the id in the request path).
fn writes_to(id: &str) -> usize {
    emulator()
        .calls()
        .iter()
        .filter(|c| {
            let op = c["operation"].as_str().unwrap_or_default();
            (op.starts_with("Update") || op.starts_with("Delete"))
                && c["path"].as_str().is_some_and(|p| p.contains(id))
        })
        .count()
}

#[tokio::test]
async fn create_then_no_write_when_nothing_changed_then_update_in_place() {
    let client = client();
    let stack = "cp-lifecycle";
    let id = Api::create(&client, &spec(stack, &["authorization"]))
        .await
        .unwrap();
    assert_eq!(
        boto3_config(&id),
        json!({"name": "cp-lifecycle-cache", "ttl": [0, 86400, 31536000], "headers": ["authorization"],
               "gzip": true, "brotli": true, "query": "all", "cookies": "none"})
    );

    let before = writes_to(&id);
    etag::update::<Api>(&client, &id, &spec(stack, &["authorization"]))
        .await
        .unwrap();
    assert_eq!(writes_to(&id), before, "an unchanged policy costs no write call");

    etag::update::<Api>(&client, &id, &spec(stack, &["authorization", "accept"]))
        .await
        .unwrap();
    // A set to CloudFront: compared sorted (the emulator answers it reordered).
    assert_eq!(boto3_config(&id)["headers"], json!(["accept", "authorization"]));
    assert_eq!(writes_to(&id), before + 1, "exactly one update");
}

#[tokio::test]
async fn a_policy_missing_from_the_lockfile_is_found_by_name() {
    let client = client();
    let desired = spec("cp-adopt", &["authorization"]);
    let id = Api::create(&client, &desired).await.unwrap();
    // As after a run killed between the create call and the lockfile write.
    let found = etag::find_by_name::<Api>(&client, &desired.name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id.as_str(), &found.spec), (id.as_str(), &desired));
}

#[tokio::test]
async fn a_stale_etag_is_re_read_and_the_update_goes_through() {
    let client = client();
    let id = Api::create(&client, &spec("cp-stale", &["authorization"]))
        .await
        .unwrap();
    emulator().control(
        "POST",
        "/_ahi/faults",
        Some(&json!({"operation": "cloudfront:UpdateCachePolicy", "kind": "error", "code": "PreconditionFailed",
                     "status": 412, "nth": 1, "target": id})),
    );
    etag::update::<Api>(&client, &id, &spec("cp-stale", &["accept"]))
        .await
        .unwrap();
    assert_eq!(boto3_config(&id)["headers"], json!(["accept"]));
}

#[tokio::test]
async fn delete_is_safe_to_repeat() {
    let client = client();
    let id = Api::create(&client, &spec("cp-delete", &[])).await.unwrap();
    assert_eq!(boto3_config(&id)["headers"], json!([]));
    etag::delete::<Api>(&client, &id).await.unwrap();
    etag::delete::<Api>(&client, &id).await.unwrap();
    assert_eq!(Api::get(&client, &id).await.unwrap(), None);
}
