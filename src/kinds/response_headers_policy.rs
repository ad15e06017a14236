//! The response headers policy: CORS on every response the distribution
//! sends (frames and metadata included, not only the authorizer's 204 and
//! 401), from `auth.cors_allow_origins`, plus the security headers AWS's
//! managed SecurityHeadersPolicy sets (HSTS for a year, nosniff).
//!
//! CloudFront applies the policy to each response as it leaves the edge,
//! cache hits included, echoing the request's `Origin` when it is listed.
//! So `Origin` stays out of the cache key: one cached copy serves viewers
//! from every allowed origin, and each gets its own header (with
//! `Vary: Origin` for listed origins). Same shape as `cache_policy`.
//!
//! It also sets the `Cache-Control` viewers get (`cloudfront.viewer_cache_control`,
//! default `private, no-store`) as a custom header with Override: it replaces
//! the proxy's `public, max-age=31536000, immutable` in responses to viewers
//! only; CloudFront's own cache still takes its TTLs from the origin's header
//! and the cache policy ("Add or remove HTTP headers in CloudFront responses
//! with a policy", CloudFront Developer Guide).

use aws_sdk_cloudfront::types::{
    ResponseHeadersPolicyAccessControlAllowHeaders, ResponseHeadersPolicyAccessControlAllowMethods,
    ResponseHeadersPolicyAccessControlAllowMethodsValues, ResponseHeadersPolicyAccessControlAllowOrigins,
    ResponseHeadersPolicyConfig, ResponseHeadersPolicyContentTypeOptions, ResponseHeadersPolicyCorsConfig,
    ResponseHeadersPolicyCustomHeader, ResponseHeadersPolicyCustomHeadersConfig,
    ResponseHeadersPolicySecurityHeadersConfig, ResponseHeadersPolicyStrictTransportSecurity,
    ResponseHeadersPolicyType,
};
use serde::Serialize;

use super::cloudfront_policy::{Client, EtagApi, Page, Policy, etagged, got, need, page_of};
use crate::aws::{AwsError, sdk};
use crate::engine::kind::Typed;
use crate::resources::{Etagged, Write, written};

/// What a viewer may do across origins: read frames and metadata.
pub const ALLOWED_METHODS: [&str; 3] = ["GET", "HEAD", "OPTIONS"];
/// What viewers send: the token, and a content type on metadata reads.
pub const ALLOWED_HEADERS: [&str; 2] = ["authorization", "content-type"];
/// How long a browser may keep a preflight's answer (the authorizer's too).
pub const MAX_AGE_SECONDS: i32 = 86_400;
/// HSTS max-age, as AWS's managed SecurityHeadersPolicy sets it.
pub const HSTS_SECONDS: i32 = 31_536_000;
/// The header the policy sets toward viewers, replacing the origin's.
pub const CACHE_CONTROL: &str = "Cache-Control";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ResponseHeadersPolicySpec {
    pub name: String,
    pub comment: String,
    /// Exact origins, or `["*"]`.
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub max_age_seconds: i32,
    pub hsts_seconds: i32,
    pub nosniff: bool,
    /// The `Cache-Control` viewers get, overriding the origin's. Absent
    /// from lockfiles written before it existed: empty, so `plan` shows
    /// the update.
    #[serde(default)]
    pub viewer_cache_control: String,
}

impl ResponseHeadersPolicySpec {
    pub(crate) fn to_config(&self) -> Result<ResponseHeadersPolicyConfig, AwsError> {
        let build = |e: aws_sdk_cloudfront::error::BuildError| AwsError {
            operation: "ResponseHeadersPolicyConfig",
            code: None,
            message: e.to_string(),
        };
        let cors = ResponseHeadersPolicyCorsConfig::builder()
            .access_control_allow_origins(
                ResponseHeadersPolicyAccessControlAllowOrigins::builder()
                    .quantity(self.allow_origins.len() as i32)
                    .set_items(Some(self.allow_origins.clone()))
                    .build()
                    .map_err(build)?,
            )
            .access_control_allow_headers(
                ResponseHeadersPolicyAccessControlAllowHeaders::builder()
                    .quantity(self.allow_headers.len() as i32)
                    .set_items(Some(self.allow_headers.clone()))
                    .build()
                    .map_err(build)?,
            )
            .access_control_allow_methods(
                ResponseHeadersPolicyAccessControlAllowMethods::builder()
                    .quantity(self.allow_methods.len() as i32)
                    .set_items(Some(
                        self.allow_methods
                            .iter()
                            .map(|m| ResponseHeadersPolicyAccessControlAllowMethodsValues::from(m.as_str()))
                            .collect(),
                    ))
                    .build()
                    .map_err(build)?,
            )
            .access_control_allow_credentials(false)
            .access_control_max_age_sec(self.max_age_seconds)
            // Ours, not the origin's: the proxy sets no CORS headers.
            .origin_override(true)
            .build()
            .map_err(build)?;
        let security = ResponseHeadersPolicySecurityHeadersConfig::builder()
            .strict_transport_security(
                ResponseHeadersPolicyStrictTransportSecurity::builder()
                    .r#override(false)
                    .include_subdomains(false)
                    .preload(false)
                    .access_control_max_age_sec(self.hsts_seconds)
                    .build()
                    .map_err(build)?,
            )
            .set_content_type_options(match self.nosniff {
                true => Some(
                    ResponseHeadersPolicyContentTypeOptions::builder()
                        .r#override(true)
                        .build()
                        .map_err(build)?,
                ),
                false => None,
            })
            .build();
        let viewer_cache_control = ResponseHeadersPolicyCustomHeader::builder()
            .header(CACHE_CONTROL)
            .value(&self.viewer_cache_control)
            .r#override(true)
            .build()
            .map_err(build)?;
        let custom = ResponseHeadersPolicyCustomHeadersConfig::builder()
            .quantity(1)
            .items(viewer_cache_control)
            .build()
            .map_err(build)?;
        ResponseHeadersPolicyConfig::builder()
            .name(&self.name)
            .comment(&self.comment)
            .cors_config(cors)
            .security_headers_config(security)
            .custom_headers_config(custom)
            .build()
            .map_err(build)
    }

    pub(crate) fn from_config(config: &ResponseHeadersPolicyConfig) -> Self {
        let cors = config.cors_config();
        let security = config.security_headers_config();
        let hsts = security.and_then(|s| s.strict_transport_security());
        ResponseHeadersPolicySpec {
            name: config.name().to_string(),
            comment: config.comment().unwrap_or_default().to_string(),
            allow_origins: cors
                .and_then(|c| c.access_control_allow_origins())
                .map(|o| o.items().to_vec())
                .unwrap_or_default(),
            allow_methods: cors
                .and_then(|c| c.access_control_allow_methods())
                .map(|m| m.items().iter().map(|v| v.as_str().to_string()).collect())
                .unwrap_or_default(),
            allow_headers: cors
                .and_then(|c| c.access_control_allow_headers())
                .map(|h| h.items().to_vec())
                .unwrap_or_default(),
            max_age_seconds: cors
                .and_then(|c| c.access_control_max_age_sec())
                .unwrap_or_default(),
            hsts_seconds: hsts.map(|h| h.access_control_max_age_sec()).unwrap_or_default(),
            nosniff: security.is_some_and(|s| s.content_type_options().is_some()),
            viewer_cache_control: viewer_cache_control(config),
        }
    }
}

/// The live policy's viewer `Cache-Control`: the value when the policy's only
/// custom header is an overriding `Cache-Control`; otherwise every custom
/// header as `Name: value (override|add)`, which no profile value equals
/// (a canonical value has no `:`), so `status` reports the drift.
fn viewer_cache_control(config: &ResponseHeadersPolicyConfig) -> String {
    let headers = config
        .custom_headers_config()
        .map(|c| c.items())
        .unwrap_or_default();
    match headers {
        [only] if only.header().eq_ignore_ascii_case(CACHE_CONTROL) && only.r#override() => {
            only.value().to_string()
        }
        _ => headers
            .iter()
            .map(|h| {
                let how = if h.r#override() { "override" } else { "add" };
                format!("{}: {} ({how})", h.header(), h.value())
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

pub struct Api;

pub const RESPONSE_HEADERS_POLICY: Typed<Policy<Api>> = Typed(Policy(std::marker::PhantomData));

impl EtagApi for Api {
    type Spec = ResponseHeadersPolicySpec;
    const KIND: &'static str = "cloudfront-response-headers-policy";
    const GONE: &'static str = "NoSuchResponseHeadersPolicy";
    const IN_USE: &'static str = "ResponseHeadersPolicyInUse";
    const UPDATE: &'static str = "UpdateResponseHeadersPolicy";
    const DELETE: &'static str = "DeleteResponseHeadersPolicy";

    fn comment(spec: &ResponseHeadersPolicySpec) -> &str {
        &spec.comment
    }
    async fn get(c: &Client, id: &str) -> Result<Option<Etagged<ResponseHeadersPolicySpec>>, AwsError> {
        const OP: &str = "GetResponseHeadersPolicy";
        let sent = c.get_response_headers_policy().id(id).send().await;
        let Some(out) = got(OP, Self::GONE, sent)? else {
            return Ok(None);
        };
        let p = need(OP, "ResponseHeadersPolicy", out.response_headers_policy())?;
        let config = need(
            OP,
            "ResponseHeadersPolicyConfig",
            p.response_headers_policy_config(),
        )?;
        etagged(
            OP,
            p.id(),
            out.e_tag(),
            ResponseHeadersPolicySpec::from_config(config),
        )
    }

    async fn page(c: &Client, marker: Option<String>) -> Result<Page, AwsError> {
        let call = c
            .list_response_headers_policies()
            .r#type(ResponseHeadersPolicyType::Custom);
        let out = call.set_marker(marker).send().await;
        let out = out.map_err(sdk("ListResponseHeadersPolicies"))?;
        let list = out.response_headers_policy_list();
        let items = list.map(|l| l.items()).unwrap_or_default();
        let named = items.iter().filter_map(|s| {
            let p = s.response_headers_policy()?;
            Some((
                p.id().to_string(),
                p.response_headers_policy_config()?.name().to_string(),
            ))
        });
        Ok(page_of(named, list.and_then(|l| l.next_marker())))
    }

    async fn create(c: &Client, spec: &ResponseHeadersPolicySpec) -> Result<String, AwsError> {
        const OP: &str = "CreateResponseHeadersPolicy";
        let call = c.create_response_headers_policy();
        let sent = call
            .response_headers_policy_config(spec.to_config()?)
            .send()
            .await;
        let out = sent.map_err(sdk(OP))?;
        Ok(
            need(OP, "ResponseHeadersPolicy.Id", out.response_headers_policy())?
                .id()
                .to_string(),
        )
    }

    async fn put(
        c: &Client,
        id: &str,
        etag: &str,
        spec: &ResponseHeadersPolicySpec,
    ) -> Result<Write, AwsError> {
        let call = c.update_response_headers_policy().id(id).if_match(etag);
        written(
            Self::UPDATE,
            &[],
            call.response_headers_policy_config(spec.to_config()?)
                .send()
                .await,
        )
    }

    async fn remove(c: &Client, id: &str, etag: &str) -> Result<Write, AwsError> {
        let sent = c
            .delete_response_headers_policy()
            .id(id)
            .if_match(etag)
            .send()
            .await;
        written(Self::DELETE, &[Self::GONE], sent)
    }
}
