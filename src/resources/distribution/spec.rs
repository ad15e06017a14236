//! The CloudFront distribution's desired configuration, from the profile
//! and what the other resources produced. Plain data: the ETag'd create /
//! update / disable / delete cycle builds on it.
//!
//! The origin secret's value is never part of the spec (whose fingerprint
//! goes into the lockfile): the spec names the secret's version, and the
//! value is put into the SDK request only by `to_config`.

use std::collections::BTreeMap;

use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CacheBehavior, CacheBehaviors, CachedMethods, CustomHeaders, CustomOriginConfig,
    DefaultCacheBehavior, DistributionConfig, EventType, FunctionAssociation, FunctionAssociations,
    HttpVersion, LambdaFunctionAssociation, LambdaFunctionAssociations, LoggingConfig, Method,
    MinimumProtocolVersion, Origin, OriginCustomHeader, OriginProtocolPolicy, OriginSslProtocols, Origins,
    PriceClass, S3OriginConfig, SslProtocol, SslSupportMethod, TrustedKeyGroups, ViewerCertificate,
    ViewerProtocolPolicy,
};
use serde::Serialize;

use crate::aws::AwsError;
use crate::profile::{AlbOrigin, Profile};
use crate::routes::{HEALTHIMAGING_ORIGIN, OriginKind, Policy};

pub const LOGICAL_ID: &str = "distribution";
/// The HealthImaging proxy's origin id (the `healthimaging` origin of routes).
pub const ORIGIN_ID: &str = "regional-proxy";
/// The header CloudFront adds and the ALB rule requires.
pub const ORIGIN_HEADER: &str = "X-Custom-Header";
/// CloudFront's method order, kept on both sides of a comparison.
const METHOD_ORDER: [&str; 7] = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"];

/// What the distribution needs from resources created before it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Inputs {
    /// The CloudFront idempotency token of this distribution's create.
    pub caller_reference: String,
    /// The ALB's DNS name (HTTP mode; in HTTPS mode the profile's hostname
    /// is used). `None` without `[healthimaging]`.
    pub alb_dns_name: Option<String>,
    /// The stack's own policies (the HealthImaging routes').
    pub cache_policy_id: Option<String>,
    pub origin_request_policy_id: Option<String>,
    pub response_headers_policy_id: Option<String>,
    /// The authorizer's qualified version ARN; `None` without one.
    pub authorizer_version_arn: Option<String>,
    /// Each route function's ARN, by its key (`routes::Table::functions`).
    pub function_arns: BTreeMap<String, String>,
    /// Each signer's key group id, by signer name.
    pub key_group_ids: BTreeMap<String, String>,
    /// The stack's Origin Access Control (with an `s3` origin).
    pub oac_id: Option<String>,
    /// `<bucket>.s3.amazonaws.com`, for standard logging.
    pub log_bucket_domain: String,
    /// The Secrets Manager version id of the origin header value.
    pub origin_secret_version: Option<String>,
}

/// A new CloudFront idempotency token for one create of the stack's
/// distribution. CloudFront remembers every reference ever sent (a reused
/// one gives `DistributionAlreadyExists`, even after the delete), so each
/// create gets its own; it is recorded with the intent, before the call, so
/// a run killed after the call finds the distribution by it.
pub fn new_caller_reference(stack: &str) -> String {
    use sha2::{Digest, Sha256};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let digest = Sha256::digest(format!("{stack}/{nanos}/{}", std::process::id()));
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("ahi-edge-{stack}-{hex}")
}

/// The reference schema-1 lockfiles' distributions were created with.
pub fn v1_caller_reference(stack: &str) -> String {
    format!("ahi-edge-{stack}")
}

/// The comment that finds the distribution again (with the CallerReference).
pub fn comment(stack: &str) -> String {
    format!("ahi-edge stack {stack}: AWS HealthImaging image frames and metadata")
}

/// One origin of the distribution.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct OriginSpec {
    pub id: String,
    pub domain: String,
    /// Prepended to every origin request's path.
    pub path: String,
    /// `https-only` / `http-only` (custom origins); `None`: an S3 REST origin.
    pub protocol: Option<String>,
    pub http_port: i32,
    pub https_port: i32,
    pub read_timeout_s: i32,
    /// Origin Access Control (private S3 origins).
    pub oac_id: Option<String>,
    /// CloudFront sends the origin secret header (the HealthImaging proxy).
    pub secret_header: bool,
}

/// One cache behaviour; the last of a spec's list is the default (`*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BehaviorSpec {
    pub path_pattern: String,
    pub origin_id: String,
    pub methods: Vec<String>,
    pub cached_methods: Vec<String>,
    pub cache_policy_id: String,
    pub origin_request_policy_id: Option<String>,
    pub response_headers_policy_id: Option<String>,
    /// Lambda@Edge, viewer-request (the JWT authorizer).
    pub viewer_request_lambda: Option<String>,
    /// A CloudFront Function, viewer-request (a route transform).
    pub viewer_request_function: Option<String>,
    /// Key group ids whose keys may sign URLs and cookies for this route
    /// (none: no signature needed).
    #[serde(default)]
    pub trusted_key_groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DistributionSpec {
    /// Stable per stack: CloudFront's idempotency token for the create.
    pub caller_reference: String,
    pub comment: String,
    pub enabled: bool,
    /// The origins the routes reach, in route order.
    pub origins: Vec<OriginSpec>,
    /// The routes in evaluation order; the last is the default behaviour.
    pub behaviors: Vec<BehaviorSpec>,
    /// The origin header value's version, when an origin sends it.
    pub origin_secret_version: Option<String>,
    pub price_class: String,
    pub aliases: Vec<String>,
    pub certificate_arn: Option<String>,
    pub web_acl_id: Option<String>,
    pub log_bucket_domain: String,
}

fn build(e: aws_sdk_cloudfront::error::BuildError) -> AwsError {
    AwsError {
        operation: "DistributionConfig",
        code: None,
        message: e.to_string(),
    }
}

fn origin_spec(profile: &Profile, inputs: &Inputs, name: &str, kind: &OriginKind) -> OriginSpec {
    let base = OriginSpec {
        id: name.to_string(),
        domain: kind.domain(),
        path: String::new(),
        protocol: None,
        http_port: 80,
        https_port: 443,
        read_timeout_s: 30,
        oac_id: None,
        secret_header: false,
    };
    match kind {
        OriginKind::HealthImaging => {
            let (domain, protocol) = match profile.delivery.as_ref().map(|hi| &hi.alb) {
                Some(AlbOrigin::Https { hostname, .. }) => (hostname.clone(), "https-only"),
                _ => (inputs.alb_dns_name.clone().unwrap_or_default(), "http-only"),
            };
            OriginSpec {
                id: ORIGIN_ID.into(),
                domain,
                protocol: Some(protocol.into()),
                secret_header: true,
                ..base
            }
        }
        OriginKind::Http {
            protocol,
            http_port,
            https_port,
            origin_path,
            read_timeout_s,
            ..
        } => OriginSpec {
            path: origin_path.clone(),
            protocol: Some(protocol.clone()),
            http_port: *http_port as i32,
            https_port: *https_port as i32,
            read_timeout_s: *read_timeout_s as i32,
            ..base
        },
        OriginKind::S3 { .. } => OriginSpec {
            oac_id: Some(inputs.oac_id.clone().unwrap_or_default()),
            ..base
        },
        // A website endpoint is a custom origin that speaks only HTTP.
        OriginKind::S3Website { .. } => OriginSpec {
            protocol: Some("http-only".into()),
            ..base
        },
    }
}

fn origin_id(name: &str) -> String {
    if name == HEALTHIMAGING_ORIGIN {
        ORIGIN_ID.into()
    } else {
        name.to_string()
    }
}

impl DistributionSpec {
    pub fn new(profile: &Profile, inputs: &Inputs) -> Self {
        let stack = &profile.stack.name;
        let table = &profile.routes;
        let mut origins: Vec<OriginSpec> = Vec::new();
        for route in &table.routes {
            if origins.iter().any(|o| o.id == origin_id(&route.origin)) {
                continue;
            }
            if let Some(o) = table.origin(&route.origin) {
                origins.push(origin_spec(profile, inputs, &o.name, &o.kind));
            }
        }
        let policy = |p: Option<Policy>, ours: &Option<String>| match p {
            Some(Policy::Managed(m)) => Some(m.id.to_string()),
            Some(Policy::Stack) => ours.clone(),
            None => None,
        };
        let behaviors = table
            .routes
            .iter()
            .map(|r| BehaviorSpec {
                path_pattern: r.path.clone(),
                origin_id: origin_id(&r.origin),
                methods: r.methods.list().iter().map(|m| m.to_string()).collect(),
                cached_methods: r.methods.cached().iter().map(|m| m.to_string()).collect(),
                cache_policy_id: policy(Some(r.cache), &inputs.cache_policy_id).unwrap_or_default(),
                origin_request_policy_id: policy(r.forward, &inputs.origin_request_policy_id),
                response_headers_policy_id: policy(r.headers, &inputs.response_headers_policy_id),
                viewer_request_lambda: r
                    .authorizer
                    .then(|| inputs.authorizer_version_arn.clone())
                    .flatten(),
                viewer_request_function: table
                    .function_key(&r.transform)
                    .map(|k| inputs.function_arns.get(&k).cloned().unwrap_or_default()),
                trusted_key_groups: r
                    .signed
                    .iter()
                    .map(|s| inputs.key_group_ids.get(s).cloned().unwrap_or_default())
                    .collect(),
            })
            .collect();
        let secret = origins.iter().any(|o| o.secret_header);
        DistributionSpec {
            caller_reference: inputs.caller_reference.clone(),
            comment: comment(stack),
            enabled: true,
            origins,
            behaviors,
            origin_secret_version: inputs.origin_secret_version.clone().filter(|_| secret),
            price_class: profile.cloudfront.price_class.clone(),
            aliases: profile.cloudfront.aliases.clone(),
            certificate_arn: profile.cloudfront.certificate_arn.clone(),
            web_acl_id: profile.cloudfront.web_acl_arn.clone(),
            log_bucket_domain: inputs.log_bucket_domain.clone(),
        }
    }

    /// Takes `spec`'s order for every list CloudFront treats as a set
    /// (`resources::sets`): origins, aliases, and each behaviour's methods
    /// and trusted key groups. Behaviours themselves are evaluated in order
    /// and stay as read; they are paired by position.
    pub fn follow_sets(&mut self, spec: &DistributionSpec) {
        use crate::resources::sets::follow;
        follow(&mut self.origins, &spec.origins);
        follow(&mut self.aliases, &spec.aliases);
        for (live, ours) in self.behaviors.iter_mut().zip(&spec.behaviors) {
            follow(&mut live.methods, &ours.methods);
            follow(&mut live.cached_methods, &ours.cached_methods);
            follow(&mut live.trusted_key_groups, &ours.trusted_key_groups);
        }
    }

    /// The default behaviour (the last route).
    pub fn default_behavior(&self) -> Option<&BehaviorSpec> {
        self.behaviors.last()
    }

    /// The SDK's DistributionConfig, with the origin secret's value (when
    /// an origin sends it).
    pub fn to_config(&self, origin_secret: Option<&str>) -> Result<DistributionConfig, AwsError> {
        let origins = self
            .origins
            .iter()
            .map(|o| to_origin(o, origin_secret))
            .collect::<Result<Vec<_>, _>>()?;
        let (default, rest) = self
            .behaviors
            .split_last()
            .ok_or_else(|| AwsError::missing("DistributionConfig", "a default behaviour"))?;
        let d = default;
        let default = DefaultCacheBehavior::builder()
            .target_origin_id(&d.origin_id)
            .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
            .allowed_methods(allowed(d)?)
            .compress(true)
            .cache_policy_id(&d.cache_policy_id)
            .set_origin_request_policy_id(d.origin_request_policy_id.clone())
            .set_response_headers_policy_id(d.response_headers_policy_id.clone())
            .lambda_function_associations(lambdas(d)?)
            .function_associations(functions(d)?)
            .trusted_key_groups(trusted(d)?)
            .build()
            .map_err(build)?;
        let behaviors = rest
            .iter()
            .map(|b| {
                CacheBehavior::builder()
                    .path_pattern(&b.path_pattern)
                    .target_origin_id(&b.origin_id)
                    .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                    .allowed_methods(allowed(b)?)
                    .compress(true)
                    .cache_policy_id(&b.cache_policy_id)
                    .set_origin_request_policy_id(b.origin_request_policy_id.clone())
                    .set_response_headers_policy_id(b.response_headers_policy_id.clone())
                    .lambda_function_associations(lambdas(b)?)
                    .function_associations(functions(b)?)
                    .trusted_key_groups(trusted(b)?)
                    .build()
                    .map_err(build)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let certificate = match &self.certificate_arn {
            Some(arn) => ViewerCertificate::builder()
                .acm_certificate_arn(arn)
                .ssl_support_method(SslSupportMethod::SniOnly)
                .minimum_protocol_version(MinimumProtocolVersion::TlSv122021),
            None => ViewerCertificate::builder().cloud_front_default_certificate(true),
        };
        DistributionConfig::builder()
            .caller_reference(&self.caller_reference)
            .comment(&self.comment)
            .enabled(self.enabled)
            .origins(
                Origins::builder()
                    .quantity(origins.len() as i32)
                    .set_items(Some(origins))
                    .build()
                    .map_err(build)?,
            )
            .default_cache_behavior(default)
            .cache_behaviors(
                CacheBehaviors::builder()
                    .quantity(behaviors.len() as i32)
                    .set_items((!behaviors.is_empty()).then_some(behaviors))
                    .build()
                    .map_err(build)?,
            )
            .aliases(
                Aliases::builder()
                    .quantity(self.aliases.len() as i32)
                    .set_items((!self.aliases.is_empty()).then(|| self.aliases.clone()))
                    .build()
                    .map_err(build)?,
            )
            .viewer_certificate(certificate.build())
            .price_class(PriceClass::from(self.price_class.as_str()))
            .http_version(HttpVersion::Http2)
            .is_ipv6_enabled(true)
            .set_web_acl_id(self.web_acl_id.clone())
            .logging(
                LoggingConfig::builder()
                    .enabled(true)
                    .include_cookies(false)
                    .bucket(&self.log_bucket_domain)
                    .prefix("cloudfront/")
                    .build(),
            )
            .build()
            .map_err(build)
    }

    /// What a live config amounts to, and the origin secret value it carries
    /// (compared with the current secret, never stored). The secret version
    /// is not in the live config: it is taken from `recorded`.
    pub fn from_config(
        config: &DistributionConfig,
        recorded_secret_version: Option<&str>,
    ) -> (Self, Option<String>) {
        let live_origins = config.origins().map(|o| o.items()).unwrap_or_default();
        let secret = live_origins
            .iter()
            .filter_map(|o| o.custom_headers())
            .flat_map(|h| h.items())
            .find(|x| x.header_name() == ORIGIN_HEADER)
            .map(|h| h.header_value().to_string());
        let origins: Vec<OriginSpec> = live_origins.iter().map(from_origin).collect();
        let mut behaviors: Vec<BehaviorSpec> = config
            .cache_behaviors()
            .map(|c| c.items())
            .unwrap_or_default()
            .iter()
            .map(|b| {
                behavior_view(
                    b.path_pattern(),
                    b.target_origin_id(),
                    b.allowed_methods(),
                    b.cache_policy_id(),
                    b.origin_request_policy_id(),
                    b.response_headers_policy_id(),
                    b.lambda_function_associations(),
                    b.function_associations(),
                    b.trusted_key_groups(),
                )
            })
            .collect();
        if let Some(b) = config.default_cache_behavior() {
            behaviors.push(behavior_view(
                "*",
                b.target_origin_id(),
                b.allowed_methods(),
                b.cache_policy_id(),
                b.origin_request_policy_id(),
                b.response_headers_policy_id(),
                b.lambda_function_associations(),
                b.function_associations(),
                b.trusted_key_groups(),
            ));
        }
        let certificate = config.viewer_certificate();
        let secret_sent = origins.iter().any(|o| o.secret_header);
        let spec = DistributionSpec {
            caller_reference: config.caller_reference().to_string(),
            comment: config.comment().to_string(),
            enabled: config.enabled(),
            origins,
            behaviors,
            origin_secret_version: recorded_secret_version
                .filter(|_| secret_sent)
                .map(str::to_string),
            price_class: config
                .price_class()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            aliases: config.aliases().map(|a| a.items().to_vec()).unwrap_or_default(),
            certificate_arn: certificate
                .and_then(|c| c.acm_certificate_arn())
                .map(str::to_string),
            web_acl_id: config.web_acl_id().filter(|w| !w.is_empty()).map(str::to_string),
            log_bucket_domain: config
                .logging()
                .map(|l| l.bucket().to_string())
                .unwrap_or_default(),
        };
        (spec, secret)
    }
}

fn to_origin(o: &OriginSpec, origin_secret: Option<&str>) -> Result<Origin, AwsError> {
    let mut origin = Origin::builder()
        .id(&o.id)
        .domain_name(&o.domain)
        .origin_path(&o.path);
    let mut headers = CustomHeaders::builder().quantity(0);
    if o.secret_header {
        let value =
            origin_secret.ok_or_else(|| AwsError::missing("DistributionConfig", "the origin secret"))?;
        headers = CustomHeaders::builder().quantity(1).items(
            OriginCustomHeader::builder()
                .header_name(ORIGIN_HEADER)
                .header_value(value)
                .build()
                .map_err(build)?,
        );
    }
    origin = origin.custom_headers(headers.build().map_err(build)?);
    match &o.protocol {
        Some(protocol) => {
            origin = origin.custom_origin_config(
                CustomOriginConfig::builder()
                    .http_port(o.http_port)
                    .https_port(o.https_port)
                    .origin_protocol_policy(OriginProtocolPolicy::from(protocol.as_str()))
                    .origin_read_timeout(o.read_timeout_s)
                    .origin_ssl_protocols(
                        OriginSslProtocols::builder()
                            .quantity(1)
                            .items(SslProtocol::TlSv12)
                            .build()
                            .map_err(build)?,
                    )
                    .build()
                    .map_err(build)?,
            )
        }
        None => {
            // With OAC, the origin access identity must be present and empty.
            origin = origin
                .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
                .set_origin_access_control_id(o.oac_id.clone())
        }
    }
    origin.build().map_err(build)
}

fn from_origin(o: &Origin) -> OriginSpec {
    let custom = o.custom_origin_config();
    OriginSpec {
        id: o.id().to_string(),
        domain: o.domain_name().to_string(),
        path: o.origin_path().unwrap_or_default().to_string(),
        protocol: custom.map(|c| c.origin_protocol_policy().as_str().to_string()),
        http_port: custom.map_or(80, |c| c.http_port()),
        https_port: custom.map_or(443, |c| c.https_port()),
        read_timeout_s: custom.and_then(|c| c.origin_read_timeout()).unwrap_or(30),
        oac_id: o
            .origin_access_control_id()
            .filter(|id| !id.is_empty())
            .map(str::to_string),
        secret_header: o
            .custom_headers()
            .is_some_and(|h| h.items().iter().any(|x| x.header_name() == ORIGIN_HEADER)),
    }
}

fn methods(items: &[String]) -> Vec<Method> {
    items.iter().map(|m| Method::from(m.as_str())).collect()
}

fn ordered(items: &[Method]) -> Vec<String> {
    let mut names: Vec<String> = items.iter().map(|m| m.as_str().to_string()).collect();
    names.sort_by_key(|m| {
        METHOD_ORDER
            .iter()
            .position(|x| x == m)
            .unwrap_or(METHOD_ORDER.len())
    });
    names
}

fn allowed(b: &BehaviorSpec) -> Result<AllowedMethods, AwsError> {
    AllowedMethods::builder()
        .quantity(b.methods.len() as i32)
        .set_items(Some(methods(&b.methods)))
        .cached_methods(
            CachedMethods::builder()
                .quantity(b.cached_methods.len() as i32)
                .set_items(Some(methods(&b.cached_methods)))
                .build()
                .map_err(build)?,
        )
        .build()
        .map_err(build)
}

fn lambdas(b: &BehaviorSpec) -> Result<LambdaFunctionAssociations, AwsError> {
    match &b.viewer_request_lambda {
        Some(arn) => LambdaFunctionAssociations::builder().quantity(1).items(
            LambdaFunctionAssociation::builder()
                .lambda_function_arn(arn)
                .event_type(EventType::ViewerRequest)
                .include_body(false)
                .build()
                .map_err(build)?,
        ),
        None => LambdaFunctionAssociations::builder().quantity(0),
    }
    .build()
    .map_err(build)
}

fn trusted(b: &BehaviorSpec) -> Result<TrustedKeyGroups, AwsError> {
    TrustedKeyGroups::builder()
        .enabled(!b.trusted_key_groups.is_empty())
        .quantity(b.trusted_key_groups.len() as i32)
        .set_items((!b.trusted_key_groups.is_empty()).then(|| b.trusted_key_groups.clone()))
        .build()
        .map_err(build)
}

fn functions(b: &BehaviorSpec) -> Result<FunctionAssociations, AwsError> {
    match &b.viewer_request_function {
        Some(arn) => FunctionAssociations::builder().quantity(1).items(
            FunctionAssociation::builder()
                .function_arn(arn)
                .event_type(EventType::ViewerRequest)
                .build()
                .map_err(build)?,
        ),
        None => FunctionAssociations::builder().quantity(0),
    }
    .build()
    .map_err(build)
}

#[allow(clippy::too_many_arguments)]
fn behavior_view(
    path_pattern: &str,
    origin_id: &str,
    allowed: Option<&AllowedMethods>,
    cache_policy_id: Option<&str>,
    origin_request_policy_id: Option<&str>,
    response_headers_policy_id: Option<&str>,
    lambdas: Option<&LambdaFunctionAssociations>,
    functions: Option<&FunctionAssociations>,
    trusted: Option<&TrustedKeyGroups>,
) -> BehaviorSpec {
    let nonempty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
    BehaviorSpec {
        path_pattern: path_pattern.to_string(),
        origin_id: origin_id.to_string(),
        methods: allowed.map(|a| ordered(a.items())).unwrap_or_default(),
        cached_methods: allowed
            .and_then(|a| a.cached_methods())
            .map(|c| ordered(c.items()))
            .unwrap_or_default(),
        cache_policy_id: cache_policy_id.unwrap_or_default().to_string(),
        origin_request_policy_id: nonempty(origin_request_policy_id),
        response_headers_policy_id: nonempty(response_headers_policy_id),
        viewer_request_lambda: lambdas.and_then(|a| {
            a.items()
                .iter()
                .find(|x| x.event_type() == &EventType::ViewerRequest)
                .map(|x| x.lambda_function_arn().to_string())
        }),
        viewer_request_function: functions.and_then(|a| {
            a.items()
                .iter()
                .find(|x| x.event_type() == &EventType::ViewerRequest)
                .map(|x| x.function_arn().to_string())
        }),
        trusted_key_groups: trusted
            .filter(|t| t.enabled())
            .map(|t| t.items().to_vec())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(name: &str) -> Profile {
        let path = format!("{}/profiles/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        crate::profile::check(std::path::Path::new(&path), &text)
            .profile
            .unwrap()
    }

    fn inputs(authorizer: bool) -> Inputs {
        Inputs {
            caller_reference: "ahi-edge-ahi-delivery-0123456789ab".into(),
            alb_dns_name: Some("ahi-delivery-alb-123.us-east-1.elb.amazonaws.com".into()),
            cache_policy_id: Some("cp-1".into()),
            origin_request_policy_id: Some("orp-1".into()),
            response_headers_policy_id: Some("rhp-1".into()),
            authorizer_version_arn: authorizer
                .then(|| "arn:aws:lambda:us-east-1:123456789012:function:ahi-delivery-edge-auth:3".into()),
            log_bucket_domain: "ahi-delivery-logs-123456789012-us-east-1.s3.amazonaws.com".into(),
            origin_secret_version: Some("v-1".into()),
            ..Inputs::default()
        }
    }

    #[test]
    fn http_mode_points_at_the_alb_with_the_authorizer_and_both_policies() {
        let spec = DistributionSpec::new(&profile("ahi-delivery"), &inputs(true));
        assert_eq!(spec.caller_reference, "ahi-edge-ahi-delivery-0123456789ab");
        assert_ne!(
            new_caller_reference("s"),
            new_caller_reference("s"),
            "one per create"
        );
        assert_eq!(spec.origins[0].protocol.as_deref(), Some("http-only"));
        assert_eq!(
            spec.origins[0].domain,
            "ahi-delivery-alb-123.us-east-1.elb.amazonaws.com"
        );
        let config = spec.to_config(Some("s3cretvalue")).unwrap();
        let behaviour = config.default_cache_behavior().unwrap();
        assert_eq!(
            behaviour.viewer_protocol_policy(),
            &ViewerProtocolPolicy::RedirectToHttps
        );
        let allowed = behaviour.allowed_methods().unwrap();
        // Viewing only: no operation needs POST (SearchImageSets would).
        assert_eq!(allowed.items(), [Method::Get, Method::Head, Method::Options]);
        let association = &behaviour.lambda_function_associations().unwrap().items()[0];
        assert_eq!(association.event_type(), &EventType::ViewerRequest);
        assert_eq!(association.include_body(), Some(false));
        assert_eq!(config.price_class(), Some(&PriceClass::PriceClassAll));
        assert_eq!(config.http_version(), Some(&HttpVersion::Http2));
        assert_eq!(config.is_ipv6_enabled(), Some(true));
        assert_eq!(config.logging().unwrap().prefix(), "cloudfront/");
        let origin = &config.origins().unwrap().items()[0];
        let ssl = origin
            .custom_origin_config()
            .unwrap()
            .origin_ssl_protocols()
            .unwrap();
        assert_eq!(ssl.items(), [SslProtocol::TlSv12]);
    }

    #[test]
    fn the_comment_fits_for_the_longest_stack_name() {
        let longest = comment(&"s".repeat(crate::names::max_stack_name_len("us-east-1")));
        assert!(longest.len() <= crate::names::CLOUDFRONT_COMMENT_MAX, "{longest}");
    }

    #[test]
    fn a_reordered_set_is_no_drift_but_a_changed_one_is() {
        let spec = DistributionSpec {
            aliases: vec!["a.example.com".into(), "b.example.com".into()],
            ..DistributionSpec::new(&profile("ahi-delivery"), &inputs(true))
        };
        let mut two = spec.clone();
        two.origins.push(OriginSpec {
            id: "assets".into(),
            ..spec.origins[0].clone()
        });
        two.behaviors[0].trusted_key_groups = vec!["kg-1".into(), "kg-2".into()];
        let mut live = two.clone();
        live.origins.reverse();
        live.aliases.reverse();
        live.behaviors[0].methods.reverse();
        live.behaviors[0].cached_methods.reverse();
        live.behaviors[0].trusted_key_groups.reverse();
        assert_ne!(live, two);
        live.follow_sets(&two);
        assert_eq!(live, two, "the same sets in another order");

        let mut added = two.clone();
        added.behaviors[0].trusted_key_groups.push("kg-3".into());
        let mut live = two.clone();
        live.behaviors[0].trusted_key_groups.reverse();
        live.follow_sets(&added);
        assert_ne!(live, added, "a key group added is still a change");
    }

    #[test]
    fn https_mode_uses_the_hostname_and_the_aliases_certificate() {
        let spec = DistributionSpec::new(&profile("ahi-delivery-https"), &inputs(true));
        assert_eq!(
            (
                spec.origins[0].domain.as_str(),
                spec.origins[0].protocol.as_deref()
            ),
            ("ahi-origin.example.com", Some("https-only"))
        );
        let config = spec.to_config(Some("x")).unwrap();
        let cert = config.viewer_certificate().unwrap();
        assert_eq!(
            cert.minimum_protocol_version(),
            Some(&MinimumProtocolVersion::TlSv122021)
        );
        assert_eq!(cert.ssl_support_method(), Some(&SslSupportMethod::SniOnly));
        assert_eq!(config.aliases().unwrap().items(), ["images.example.com"]);
        assert_eq!(config.price_class(), Some(&PriceClass::PriceClass100));
    }

    #[test]
    fn without_an_authorizer_there_is_no_association() {
        let spec = DistributionSpec::new(&profile("ahi-delivery-noauth"), &inputs(false));
        let config = spec.to_config(Some("x")).unwrap();
        let associations = config
            .default_cache_behavior()
            .unwrap()
            .lambda_function_associations()
            .unwrap();
        assert_eq!(associations.quantity(), 0);
    }

    #[test]
    fn the_secret_reaches_the_request_but_never_the_spec() {
        let spec = DistributionSpec::new(&profile("ahi-delivery"), &inputs(true));
        let config = spec.to_config(Some("s3cretvalue")).unwrap();
        let (live, secret) = DistributionSpec::from_config(&config, Some("v-1"));
        assert_eq!(live, spec, "a live config maps back to the spec");
        assert_eq!(secret.as_deref(), Some("s3cretvalue"));
        let fingerprinted = serde_json::to_string(&spec).unwrap();
        assert!(!fingerprinted.contains("s3cretvalue"));
        assert_eq!(
            crate::lockfile::fingerprint(&spec),
            crate::lockfile::fingerprint(&live)
        );
    }
}
