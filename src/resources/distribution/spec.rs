//! The CloudFront distribution's desired configuration, from the profile
//! and what the other resources produced. Plain data: the ETag'd create /
//! update / disable / delete cycle builds on it.
//!
//! The origin secret's value is never part of the spec (whose fingerprint
//! goes into the lockfile): the spec names the secret's version, and the
//! value is put into the SDK request only by `to_config`.

use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CachedMethods, CustomHeaders, CustomOriginConfig, DefaultCacheBehavior,
    DistributionConfig, EventType, HttpVersion, LambdaFunctionAssociation, LambdaFunctionAssociations,
    LoggingConfig, Method, MinimumProtocolVersion, Origin, OriginCustomHeader, OriginProtocolPolicy,
    OriginSslProtocols, Origins, PriceClass, SslProtocol, SslSupportMethod, ViewerCertificate,
    ViewerProtocolPolicy,
};
use serde::Serialize;

use crate::aws::AwsError;
use crate::profile::{AlbOrigin, Profile};

pub const LOGICAL_ID: &str = "distribution";
pub const ORIGIN_ID: &str = "regional-proxy";
/// The header CloudFront adds and the ALB rule requires.
pub const ORIGIN_HEADER: &str = "X-Custom-Header";
const ALL_METHODS: [&str; 7] = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"];
const CACHED_METHODS: [&str; 2] = ["GET", "HEAD"];

/// What the distribution needs from resources created before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// The CloudFront idempotency token of this distribution's create.
    pub caller_reference: String,
    /// The ALB's DNS name (HTTP mode); in HTTPS mode the profile's hostname is used.
    pub alb_dns_name: String,
    pub cache_policy_id: String,
    pub origin_request_policy_id: String,
    pub response_headers_policy_id: String,
    /// The authorizer's qualified version ARN; `None` with `auth.mode = "none"`.
    pub authorizer_version_arn: Option<String>,
    /// `<bucket>.s3.amazonaws.com`, for standard logging.
    pub log_bucket_domain: String,
    /// The Secrets Manager version id of the origin header value.
    pub origin_secret_version: String,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DistributionSpec {
    /// Stable per stack: CloudFront's idempotency token for the create.
    pub caller_reference: String,
    pub comment: String,
    pub enabled: bool,
    pub origin_domain: String,
    /// `http-only` or `https-only`.
    pub origin_protocol: String,
    pub origin_secret_version: String,
    pub cache_policy_id: String,
    pub origin_request_policy_id: String,
    pub response_headers_policy_id: String,
    pub viewer_request_authorizer: Option<String>,
    pub price_class: String,
    pub aliases: Vec<String>,
    pub certificate_arn: Option<String>,
    pub web_acl_id: Option<String>,
    pub log_bucket_domain: String,
}

impl DistributionSpec {
    pub fn new(profile: &Profile, inputs: &Inputs) -> Self {
        let stack = &profile.stack.name;
        let (origin_domain, origin_protocol) = match &profile.alb {
            AlbOrigin::Https { hostname, .. } => (hostname.clone(), "https-only"),
            AlbOrigin::Http => (inputs.alb_dns_name.clone(), "http-only"),
        };
        DistributionSpec {
            caller_reference: inputs.caller_reference.clone(),
            comment: comment(stack),
            enabled: true,
            origin_domain,
            origin_protocol: origin_protocol.to_string(),
            origin_secret_version: inputs.origin_secret_version.clone(),
            cache_policy_id: inputs.cache_policy_id.clone(),
            origin_request_policy_id: inputs.origin_request_policy_id.clone(),
            response_headers_policy_id: inputs.response_headers_policy_id.clone(),
            viewer_request_authorizer: inputs.authorizer_version_arn.clone(),
            price_class: profile.cloudfront.price_class.clone(),
            aliases: profile.cloudfront.aliases.clone(),
            certificate_arn: profile.cloudfront.certificate_arn.clone(),
            web_acl_id: profile.cloudfront.web_acl_arn.clone(),
            log_bucket_domain: inputs.log_bucket_domain.clone(),
        }
    }

    /// The SDK's DistributionConfig, with the origin secret's value.
    pub fn to_config(&self, origin_secret: &str) -> Result<DistributionConfig, AwsError> {
        let build = |e: aws_sdk_cloudfront::error::BuildError| AwsError {
            operation: "DistributionConfig",
            code: None,
            message: e.to_string(),
        };
        let methods = |items: &[&str]| items.iter().map(|m| Method::from(*m)).collect::<Vec<_>>();
        let origin = Origin::builder()
            .id(ORIGIN_ID)
            .domain_name(&self.origin_domain)
            .custom_headers(
                CustomHeaders::builder()
                    .quantity(1)
                    .items(
                        OriginCustomHeader::builder()
                            .header_name(ORIGIN_HEADER)
                            .header_value(origin_secret)
                            .build()
                            .map_err(build)?,
                    )
                    .build()
                    .map_err(build)?,
            )
            .custom_origin_config(
                CustomOriginConfig::builder()
                    .http_port(80)
                    .https_port(443)
                    .origin_protocol_policy(OriginProtocolPolicy::from(self.origin_protocol.as_str()))
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
            .build()
            .map_err(build)?;
        let associations = match &self.viewer_request_authorizer {
            Some(arn) => LambdaFunctionAssociations::builder().quantity(1).items(
                LambdaFunctionAssociation::builder()
                    .lambda_function_arn(arn)
                    .event_type(EventType::ViewerRequest)
                    .include_body(false)
                    .build()
                    .map_err(build)?,
            ),
            None => LambdaFunctionAssociations::builder().quantity(0),
        };
        let behaviour = DefaultCacheBehavior::builder()
            .target_origin_id(ORIGIN_ID)
            .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
            .allowed_methods(
                AllowedMethods::builder()
                    .quantity(ALL_METHODS.len() as i32)
                    .set_items(Some(methods(&ALL_METHODS)))
                    .cached_methods(
                        CachedMethods::builder()
                            .quantity(CACHED_METHODS.len() as i32)
                            .set_items(Some(methods(&CACHED_METHODS)))
                            .build()
                            .map_err(build)?,
                    )
                    .build()
                    .map_err(build)?,
            )
            .compress(true)
            .cache_policy_id(&self.cache_policy_id)
            .origin_request_policy_id(&self.origin_request_policy_id)
            .response_headers_policy_id(&self.response_headers_policy_id)
            .lambda_function_associations(associations.build().map_err(build)?)
            .build()
            .map_err(build)?;
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
                    .quantity(1)
                    .items(origin)
                    .build()
                    .map_err(build)?,
            )
            .default_cache_behavior(behaviour)
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
    pub fn from_config(config: &DistributionConfig, recorded_secret_version: &str) -> (Self, Option<String>) {
        let origin = config.origins().and_then(|o| o.items().first());
        let secret = origin
            .and_then(|o| o.custom_headers())
            .and_then(|h| h.items().iter().find(|x| x.header_name() == ORIGIN_HEADER))
            .map(|h| h.header_value().to_string());
        let behaviour = config.default_cache_behavior();
        let authorizer = behaviour
            .and_then(|b| b.lambda_function_associations())
            .and_then(|a| {
                a.items()
                    .iter()
                    .find(|x| x.event_type() == &EventType::ViewerRequest)
                    .map(|x| x.lambda_function_arn().to_string())
            });
        let certificate = config.viewer_certificate();
        let spec = DistributionSpec {
            caller_reference: config.caller_reference().to_string(),
            comment: config.comment().to_string(),
            enabled: config.enabled(),
            origin_domain: origin.map(|o| o.domain_name().to_string()).unwrap_or_default(),
            origin_protocol: origin
                .and_then(|o| o.custom_origin_config())
                .map(|c| c.origin_protocol_policy().as_str().to_string())
                .unwrap_or_default(),
            origin_secret_version: recorded_secret_version.to_string(),
            cache_policy_id: behaviour
                .and_then(|b| b.cache_policy_id())
                .unwrap_or_default()
                .to_string(),
            origin_request_policy_id: behaviour
                .and_then(|b| b.origin_request_policy_id())
                .unwrap_or_default()
                .to_string(),
            response_headers_policy_id: behaviour
                .and_then(|b| b.response_headers_policy_id())
                .unwrap_or_default()
                .to_string(),
            viewer_request_authorizer: authorizer,
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
            alb_dns_name: "ahi-delivery-alb-123.us-east-1.elb.amazonaws.com".into(),
            cache_policy_id: "cp-1".into(),
            origin_request_policy_id: "orp-1".into(),
            response_headers_policy_id: "rhp-1".into(),
            authorizer_version_arn: authorizer
                .then(|| "arn:aws:lambda:us-east-1:123456789012:function:ahi-delivery-edge-auth:3".into()),
            log_bucket_domain: "ahi-delivery-logs-123456789012-us-east-1.s3.amazonaws.com".into(),
            origin_secret_version: "v-1".into(),
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
        assert_eq!(spec.origin_protocol, "http-only");
        assert_eq!(
            spec.origin_domain,
            "ahi-delivery-alb-123.us-east-1.elb.amazonaws.com"
        );
        let config = spec.to_config("s3cretvalue").unwrap();
        let behaviour = config.default_cache_behavior().unwrap();
        assert_eq!(
            behaviour.viewer_protocol_policy(),
            &ViewerProtocolPolicy::RedirectToHttps
        );
        let allowed = behaviour.allowed_methods().unwrap();
        assert_eq!(allowed.items().len(), 7);
        assert_eq!(
            allowed.cached_methods().unwrap().items(),
            [Method::Get, Method::Head]
        );
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
    fn https_mode_uses_the_hostname_and_the_aliases_certificate() {
        let spec = DistributionSpec::new(&profile("ahi-delivery-https"), &inputs(true));
        assert_eq!(
            (spec.origin_domain.as_str(), spec.origin_protocol.as_str()),
            ("ahi-origin.example.com", "https-only")
        );
        let config = spec.to_config("x").unwrap();
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
        let config = spec.to_config("x").unwrap();
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
        let config = spec.to_config("s3cretvalue").unwrap();
        let (live, secret) = DistributionSpec::from_config(&config, "v-1");
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
