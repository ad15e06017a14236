//! The edge authorizer's role and function against the emulator, checked
//! with boto3: created once, unchanged runs write nothing, a changed package
//! publishes a new version, a replicated function refuses deletion, and a
//! look-alike role without our tags is never touched.

use ahi_edge::authorizer::{self, AuthorizerConfig};
use ahi_edge::kinds::edge_function;
use ahi_edge::kinds::edge_function::Spec as FunctionSpec;
use ahi_edge::lockfile::Lockfile;
use ahi_edge::resources::edge_role;
use ahi_edge::stack::apply::Change;
use serde_json::json;

use crate::emulator::emulator;
use crate::kinds::{self, ctx, ensure};

fn profile(stack: &str, client_id: &str) -> ahi_edge::profile::Profile {
    kinds::profile(stack, &[("4fr9qmc1oba52s6hrfl5hntu2u", client_id)])
}

fn lambda() -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&emulator().sdk_config())
}

fn package(profile: &ahi_edge::profile::Profile) -> Vec<u8> {
    let config = AuthorizerConfig::from_profile(profile).expect("an authorizer");
    authorizer::package(&config, authorizer::BUNDLE).unwrap()
}

/// Role and function for `stack`, as `up` makes them; the lockfile that
/// records them and the published version's ARN.
async fn deployed_authorizer(stack: &str, client_id: &str) -> (ahi_edge::profile::Profile, String) {
    let p = profile(stack, client_id);
    let zip = package(&p);
    let cx = ctx(stack, Some(zip.clone()));
    let mut lock = Lockfile::new(stack);
    let role = kinds::spec(&p, "edge_role", &lock, None);
    let (made, _) = ensure(&cx, "iam-role", "edge_role", &role, None).await.unwrap();
    kinds::record(&mut lock, "edge_role", "iam-role", &made, &role);
    let function = kinds::spec(&p, "edge_function", &lock, Some(FunctionSpec::code_sha256(&zip)));
    let (made, _) = ensure(&cx, "lambda-edge-function", "edge_function", &function, None)
        .await
        .unwrap();
    (p, made.outputs["version_arn"].clone())
}

#[tokio::test]
async fn role_then_function_version_then_nothing_then_a_new_version() {
    let stack = "edge-chain";
    let first = profile(stack, "clientaaaaaaaaaaaaaaaaaaaa");
    let zip = package(&first);
    let cx = ctx(stack, Some(zip.clone()));
    let mut lock = Lockfile::new(stack);
    let role_spec = kinds::spec(&first, "edge_role", &lock, None);
    let (role, change) = ensure(&cx, "iam-role", "edge_role", &role_spec, None)
        .await
        .unwrap();
    assert_eq!(change, Change::Created);
    let seen = emulator().boto3(&format!(
        "i = client('iam')\n\
         r = i.get_role(RoleName='{stack}-edge-auth')['Role']\n\
         p = i.list_attached_role_policies(RoleName='{stack}-edge-auth')['AttachedPolicies']\n\
         print(json.dumps({{'principals': sorted(r['AssumeRolePolicyDocument']['Statement'][0]['Principal']['Service']),\n    \
           'policies': [x['PolicyArn'] for x in p], 'tags': {{t['Key']: t['Value'] for t in r.get('Tags', [])}}}}))"
    ));
    assert_eq!(
        seen["principals"],
        json!(["edgelambda.amazonaws.com", "lambda.amazonaws.com"])
    );
    assert_eq!(seen["policies"], json!([edge_role::BASIC_EXECUTION]));
    assert_eq!(seen["tags"]["ahi-edge:stack"], stack);
    assert_eq!(seen["tags"]["project"], "medical-imaging");
    kinds::record(&mut lock, "edge_role", "iam-role", &role, &role_spec);
    let entry = lock.resources["edge_role"].clone();
    let (_, change) = ensure(&cx, "iam-role", "edge_role", &role_spec, Some(&entry))
        .await
        .unwrap();
    assert_eq!(change, Change::Unchanged);

    let spec = kinds::spec(
        &first,
        "edge_function",
        &lock,
        Some(FunctionSpec::code_sha256(&zip)),
    );
    let (made, change) = ensure(&cx, "lambda-edge-function", "edge_function", &spec, None)
        .await
        .unwrap();
    assert_eq!(change, Change::Created);
    let v1 = made.outputs["version_arn"].clone();
    assert!(v1.ends_with(&format!("function:{stack}-edge-auth:1")), "{v1}");
    let live = emulator().boto3(&format!(
        "c = client('lambda').get_function_configuration(FunctionName='{v1}')\n\
         print(json.dumps([c['Runtime'], c['MemorySize'], c['Timeout'], 'Environment' in c, c['Handler']]))"
    ));
    assert_eq!(live, json!(["nodejs22.x", 128, 5, false, "index.handler"]));

    kinds::record(&mut lock, "edge_function", "lambda-edge-function", &made, &spec);
    let entry = lock.resources["edge_function"].clone();
    let calls_before = emulator().calls().len();
    let (again, change) = ensure(&cx, "lambda-edge-function", "edge_function", &spec, Some(&entry))
        .await
        .unwrap();
    assert_eq!(
        (again.outputs["version_arn"].as_str(), change),
        (v1.as_str(), Change::Unchanged)
    );
    let writes: Vec<_> = emulator().calls()[calls_before..]
        .iter()
        .filter(|c| c["service"] == "lambda" && c["path"].as_str().is_some_and(|p| p.contains(stack)))
        .filter(|c| {
            !c["operation"].as_str().unwrap_or_default().starts_with("Get")
                && !c["operation"].as_str().unwrap_or_default().starts_with("List")
        })
        .cloned()
        .collect();
    assert!(
        writes.is_empty(),
        "an unchanged function costs no write call: {writes:?}"
    );

    let second = profile(stack, "clientbbbbbbbbbbbbbbbbbbbb");
    let zip2 = package(&second);
    let cx2 = ctx(stack, Some(zip2.clone()));
    let spec2 = kinds::spec(
        &second,
        "edge_function",
        &lock,
        Some(FunctionSpec::code_sha256(&zip2)),
    );
    let (made2, change) = ensure(
        &cx2,
        "lambda-edge-function",
        "edge_function",
        &spec2,
        Some(&entry),
    )
    .await
    .unwrap();
    assert_eq!(change, Change::Updated);
    let v2 = &made2.outputs["version_arn"];
    assert!(v2.ends_with(":2"), "{v2}");
}

#[tokio::test]
async fn a_replicated_function_refuses_deletion_with_the_recognised_error() {
    let stack = "edge-replicated";
    let (_, version) = deployed_authorizer(stack, "clientcccccccccccccccccccc").await;
    // A distribution (made with boto3) associates the version.
    emulator().boto3(&format!(
        "b = {{'TargetOriginId': 'o', 'ViewerProtocolPolicy': 'redirect-to-https', 'MinTTL': 0,\n    \
           'ForwardedValues': {{'QueryString': True, 'Cookies': {{'Forward': 'none'}}}},\n    \
           'LambdaFunctionAssociations': {{'Quantity': 1, 'Items': [{{'LambdaFunctionARN': '{version}', 'EventType': 'viewer-request'}}]}}}}\n\
         o = {{'Quantity': 1, 'Items': [{{'Id': 'o', 'DomainName': 'example.com', 'CustomOriginConfig': {{'HTTPPort': 80, 'HTTPSPort': 443, 'OriginProtocolPolicy': 'https-only'}}}}]}}\n\
         client('cloudfront').create_distribution(DistributionConfig={{'CallerReference': '{stack}', 'Comment': '', 'Enabled': True, 'Origins': o, 'DefaultCacheBehavior': b}})\n\
         print(json.dumps(True))"
    ));
    let err = edge_function::delete_function(&lambda(), &format!("{stack}-edge-auth"))
        .await
        .unwrap_err();
    assert!(edge_function::is_replicated(&err), "{err}");
    assert!(err.message.contains(&format!(
        "function:{stack}-edge-auth:1 because it is a replicated function"
    )));
}

#[tokio::test]
async fn a_look_alike_role_without_our_tags_is_never_touched() {
    let stack = "edge-foreign";
    emulator().boto3(&format!(
        "client('iam').create_role(RoleName='{stack}-edge-auth', AssumeRolePolicyDocument='{{}}')\nprint(json.dumps(True))"
    ));
    let p = profile(stack, "clientdddddddddddddddddddd");
    let spec = kinds::spec(&p, "edge_role", &Lockfile::new(stack), None);
    let refused = ensure(&ctx(stack, None), "iam-role", "edge_role", &spec, None)
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("does not carry the tag ahi-edge:stack = edge-foreign"),
        "{refused}"
    );
    let still = emulator().boto3(&format!(
        "print(json.dumps(client('iam').get_role(RoleName='{stack}-edge-auth')['Role']['RoleName']))"
    ));
    assert_eq!(still, json!(format!("{stack}-edge-auth")));
}

#[tokio::test]
async fn the_distribution_spec_round_trips_through_cloudfront() {
    use ahi_edge::kinds::cache_policy::{Api, CachePolicySpec};
    use ahi_edge::kinds::cloudfront_policy::EtagApi;
    use ahi_edge::kinds::{origin_request_policy, response_headers_policy};
    use ahi_edge::resources::distribution::{DistributionSpec, Inputs};

    let stack = "edge-dist";
    let (p, version) = deployed_authorizer(stack, "clienteeeeeeeeeeeeeeeeeeee").await;
    let cloudfront = aws_sdk_cloudfront::Client::new(&emulator().sdk_config());
    let cache_policy_id = Api::create(&cloudfront, &CachePolicySpec::for_profile(&p))
        .await
        .unwrap();
    let origin_request_policy_id = origin_request_policy::Api::create(
        &cloudfront,
        &origin_request_policy::OriginRequestPolicySpec::for_profile(&p),
    )
    .await
    .unwrap();
    let forwarded = emulator().boto3(&format!(
        "c = client('cloudfront').get_origin_request_policy_config(Id='{origin_request_policy_id}')['OriginRequestPolicyConfig']\n\
         print(json.dumps([sorted(c['HeadersConfig']['Headers']['Items']), c['QueryStringsConfig']['QueryStringBehavior'],\n    \
           c['CookiesConfig']['CookieBehavior']]))"
    ));
    assert_eq!(
        forwarded,
        json!([
            [
                "Access-Control-Request-Headers",
                "Access-Control-Request-Method",
                "Origin"
            ],
            // No query string beyond the cache key's (issue 23).
            "none",
            "none"
        ])
    );
    let mut live = origin_request_policy::Api::get(&cloudfront, &origin_request_policy_id)
        .await
        .unwrap()
        .unwrap();
    // The header names are a set (answered reordered): compared sorted.
    let mut want = origin_request_policy::OriginRequestPolicySpec::for_profile(&p);
    want.headers.sort();
    live.spec.headers.sort();
    assert_eq!(live.spec, want);
    let headers_spec =
        response_headers_policy::ResponseHeadersPolicySpec::for_profile(&p, p.delivery.as_ref().unwrap());
    let response_headers_policy_id = response_headers_policy::Api::create(&cloudfront, &headers_spec)
        .await
        .unwrap();
    let cors = emulator().boto3(&format!(
        "c = client('cloudfront').get_response_headers_policy_config(Id='{response_headers_policy_id}')['ResponseHeadersPolicyConfig']\n\
         print(json.dumps([c['CorsConfig']['AccessControlAllowOrigins']['Items'],\n    \
           c['CorsConfig']['AccessControlAllowMethods']['Items'], c['CorsConfig']['OriginOverride'],\n    \
           c['SecurityHeadersConfig']['StrictTransportSecurity']['AccessControlMaxAgeSec']]))"
    ));
    assert_eq!(cors, json!([["*"], ["GET", "HEAD", "OPTIONS"], true, 31_536_000]));
    let live = response_headers_policy::Api::get(&cloudfront, &response_headers_policy_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.spec, headers_spec);
    let spec = DistributionSpec::new(
        &p,
        &Inputs {
            caller_reference: format!("ahi-edge-{stack}-roundtrip"),
            alb_dns_name: Some(format!("{stack}-alb-1.us-east-1.elb.amazonaws.com")),
            cache_policy_id: Some(cache_policy_id),
            origin_request_policy_id: Some(origin_request_policy_id),
            response_headers_policy_id: Some(response_headers_policy_id),
            authorizer_version_arn: Some(version.clone()),
            log_bucket_domain: format!("{stack}-logs.s3.amazonaws.com"),
            origin_secret_version: Some("v1".into()),
            ..Inputs::default()
        },
    );
    let created = cloudfront
        .create_distribution()
        .distribution_config(spec.to_config(Some("Secret32CharactersLongForTheAlbX")).unwrap())
        .send()
        .await
        .unwrap();
    let id = created.distribution().unwrap().id().to_string();

    let seen = emulator().boto3(&format!(
        "c = client('cloudfront').get_distribution_config(Id='{id}')['DistributionConfig']\n\
         b = c['DefaultCacheBehavior']\n\
         print(json.dumps({{'association': b['LambdaFunctionAssociations']['Items'][0]['LambdaFunctionARN'],\n    \
           'event': b['LambdaFunctionAssociations']['Items'][0]['EventType'],\n    \
           'header': c['Origins']['Items'][0]['CustomHeaders']['Items'][0],\n    \
           'protocol': c['Origins']['Items'][0]['CustomOriginConfig']['OriginProtocolPolicy'],\n    \
           'cached': sorted(b['AllowedMethods']['CachedMethods']['Items']), 'prefix': c['Logging']['Prefix']}}))"
    ));
    assert_eq!(seen["association"], json!(version));
    assert_eq!(seen["event"], "viewer-request");
    assert_eq!(
        seen["header"],
        json!({"HeaderName": "X-Custom-Header", "HeaderValue": "Secret32CharactersLongForTheAlbX"})
    );
    assert_eq!(seen["protocol"], "http-only");
    // The HealthImaging behaviour allows GET, HEAD and OPTIONS only (issue 23),
    // and a route allowing OPTIONS caches it too (routes::Methods::cached).
    assert_eq!(seen["cached"], json!(["GET", "HEAD", "OPTIONS"]));
    assert_eq!(seen["prefix"], "cloudfront/");

    let live = cloudfront.get_distribution_config().id(&id).send().await.unwrap();
    let (back, secret) = DistributionSpec::from_config(live.distribution_config().unwrap(), Some("v1"));
    assert_eq!(back, spec);
    assert_eq!(secret.as_deref(), Some("Secret32CharactersLongForTheAlbX"));
}
