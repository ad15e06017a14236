//! The edge authorizer's role and function against the emulator, checked
//! with boto3: created once, unchanged runs write nothing, a changed package
//! publishes a new version, a replicated function refuses deletion, and a
//! look-alike role without our tags is never touched.

use ahi_edge::authorizer::{self, AuthorizerConfig};
use ahi_edge::resources::Change;
use ahi_edge::resources::edge_function::{self, EdgeFunctionSpec};
use ahi_edge::resources::edge_role;
use serde_json::json;

use crate::emulator::emulator;
use crate::support::BASE_PROFILE;

fn profile(stack: &str, client_id: &str) -> ahi_edge::profile::Profile {
    let text = BASE_PROFILE
        .replace("name = \"ahi-delivery\"", &format!("name = \"{stack}\""))
        .replace("4fr9qmc1oba52s6hrfl5hntu2u", client_id);
    ahi_edge::profile::check(std::path::Path::new("p.toml"), &text)
        .profile
        .expect("valid profile")
}

fn iam() -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&emulator().sdk_config())
}

fn lambda() -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&emulator().sdk_config())
}

fn package(profile: &ahi_edge::profile::Profile) -> Vec<u8> {
    let config = AuthorizerConfig::from_profile(profile).expect("an authorizer");
    authorizer::package(&config, authorizer::BUNDLE).unwrap()
}

/// Role and function for `stack`; the published version's ARN.
async fn deployed_authorizer(stack: &str, client_id: &str) -> (ahi_edge::profile::Profile, String) {
    let p = profile(stack, client_id);
    let (role_arn, _) = edge_role::ensure(&iam(), &edge_role::spec(&p)).await.unwrap();
    let zip = package(&p);
    let (version, _) = edge_function::ensure(&lambda(), &EdgeFunctionSpec::new(&p, &role_arn, &zip), &zip)
        .await
        .unwrap();
    (p, version)
}

#[tokio::test]
async fn role_then_function_version_then_nothing_then_a_new_version() {
    let stack = "edge-chain";
    let first = profile(stack, "clientaaaaaaaaaaaaaaaaaaaa");
    let role_spec = edge_role::spec(&first);
    let (role_arn, change) = edge_role::ensure(&iam(), &role_spec).await.unwrap();
    assert_eq!(change, Change::Created);
    let role = emulator().boto3(&format!(
        "i = client('iam')\n\
         r = i.get_role(RoleName='{stack}-edge-auth')['Role']\n\
         p = i.list_attached_role_policies(RoleName='{stack}-edge-auth')['AttachedPolicies']\n\
         print(json.dumps({{'principals': sorted(r['AssumeRolePolicyDocument']['Statement'][0]['Principal']['Service']),\n    \
           'policies': [x['PolicyArn'] for x in p], 'tags': {{t['Key']: t['Value'] for t in r.get('Tags', [])}}}}))"
    ));
    assert_eq!(
        role["principals"],
        json!(["edgelambda.amazonaws.com", "lambda.amazonaws.com"])
    );
    assert_eq!(role["policies"], json!([edge_role::BASIC_EXECUTION]));
    assert_eq!(role["tags"]["ahi-edge:stack"], stack);
    assert_eq!(role["tags"]["project"], "medical-imaging");
    assert_eq!(
        edge_role::ensure(&iam(), &role_spec).await.unwrap(),
        (role_arn.clone(), Change::Unchanged)
    );

    let zip = package(&first);
    let spec = EdgeFunctionSpec::new(&first, &role_arn, &zip);
    let (v1, change) = edge_function::ensure(&lambda(), &spec, &zip).await.unwrap();
    assert_eq!(change, Change::Created);
    assert!(v1.ends_with(&format!("function:{stack}-edge-auth:1")), "{v1}");
    let live = emulator().boto3(&format!(
        "c = client('lambda').get_function_configuration(FunctionName='{v1}')\n\
         print(json.dumps([c['Runtime'], c['MemorySize'], c['Timeout'], 'Environment' in c, c['Handler']]))"
    ));
    assert_eq!(live, json!(["nodejs22.x", 128, 5, false, "index.handler"]));

    let calls_before = emulator().calls().len();
    let (again, change) = edge_function::ensure(&lambda(), &spec, &zip).await.unwrap();
    assert_eq!((again.as_str(), change), (v1.as_str(), Change::Unchanged));
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
    let (v2, change) = edge_function::ensure(
        &lambda(),
        &EdgeFunctionSpec::new(&second, &role_arn, &zip2),
        &zip2,
    )
    .await
    .unwrap();
    assert_eq!(change, Change::Updated);
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
    let err = edge_function::delete(&lambda(), &format!("{stack}-edge-auth"))
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
    let spec = edge_role::spec(&profile(stack, "clientdddddddddddddddddddd"));
    let refused = edge_role::ensure(&iam(), &spec).await.unwrap_err();
    assert!(
        refused
            .message
            .contains("does not carry the tag ahi-edge:stack = edge-foreign"),
        "{refused}"
    );
    let refused = edge_role::delete(&iam(), &spec.name, stack).await.unwrap_err();
    assert!(
        refused.message.contains("will not adopt or change it"),
        "{refused}"
    );
    let still = emulator().boto3(&format!(
        "print(json.dumps(client('iam').get_role(RoleName='{stack}-edge-auth')['Role']['RoleName']))"
    ));
    assert_eq!(still, json!(format!("{stack}-edge-auth")));
}

#[tokio::test]
async fn the_distribution_spec_round_trips_through_cloudfront() {
    use ahi_edge::resources::cache_policy::{self, CachePolicySpec};
    use ahi_edge::resources::distribution::{DistributionSpec, Inputs};
    use ahi_edge::resources::origin_request_policy;

    let stack = "edge-dist";
    let (p, version) = deployed_authorizer(stack, "clienteeeeeeeeeeeeeeeeeeee").await;
    let cloudfront = aws_sdk_cloudfront::Client::new(&emulator().sdk_config());
    let (cache_policy_id, _) = cache_policy::ensure(&cloudfront, &CachePolicySpec::for_profile(&p), None)
        .await
        .unwrap();
    let (origin_request_policy_id, change) = origin_request_policy::ensure(
        &cloudfront,
        &origin_request_policy::OriginRequestPolicySpec::for_profile(&p),
        None,
    )
    .await
    .unwrap();
    assert_eq!(change, Change::Created);
    let forwarded = emulator().boto3(&format!(
        "c = client('cloudfront').get_origin_request_policy_config(Id='{origin_request_policy_id}')['OriginRequestPolicyConfig']\n\
         print(json.dumps([c['HeadersConfig']['Headers']['Items'], c['QueryStringsConfig']['QueryStringBehavior'],\n    \
           c['CookiesConfig']['CookieBehavior']]))"
    ));
    assert_eq!(
        forwarded,
        json!([
            [
                "Origin",
                "Access-Control-Request-Headers",
                "Access-Control-Request-Method"
            ],
            "all",
            "none"
        ])
    );
    let again = origin_request_policy::ensure(
        &cloudfront,
        &origin_request_policy::OriginRequestPolicySpec::for_profile(&p),
        Some(&origin_request_policy_id),
    )
    .await
    .unwrap();
    assert_eq!(again, (origin_request_policy_id.clone(), Change::Unchanged));
    let spec = DistributionSpec::new(
        &p,
        &Inputs {
            alb_dns_name: format!("{stack}-alb-1.us-east-1.elb.amazonaws.com"),
            cache_policy_id,
            origin_request_policy_id,
            authorizer_version_arn: Some(version.clone()),
            log_bucket_domain: format!("{stack}-logs.s3.amazonaws.com"),
            origin_secret_version: "v1".into(),
        },
    );
    let created = cloudfront
        .create_distribution()
        .distribution_config(spec.to_config("Secret32CharactersLongForTheAlbX").unwrap())
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
           'cached': b['AllowedMethods']['CachedMethods']['Items'], 'prefix': c['Logging']['Prefix']}}))"
    ));
    assert_eq!(seen["association"], json!(version));
    assert_eq!(seen["event"], "viewer-request");
    assert_eq!(
        seen["header"],
        json!({"HeaderName": "X-Custom-Header", "HeaderValue": "Secret32CharactersLongForTheAlbX"})
    );
    assert_eq!(seen["protocol"], "http-only");
    assert_eq!(seen["cached"], json!(["GET", "HEAD"]));
    assert_eq!(seen["prefix"], "cloudfront/");

    let live = cloudfront.get_distribution_config().id(&id).send().await.unwrap();
    let (back, secret) = DistributionSpec::from_config(live.distribution_config().unwrap(), "v1");
    assert_eq!(back, spec);
    assert_eq!(secret.as_deref(), Some("Secret32CharactersLongForTheAlbX"));
}
