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

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::{
    ResponseHeadersPolicyAccessControlAllowHeaders, ResponseHeadersPolicyAccessControlAllowMethods,
    ResponseHeadersPolicyAccessControlAllowMethodsValues, ResponseHeadersPolicyAccessControlAllowOrigins,
    ResponseHeadersPolicyConfig, ResponseHeadersPolicyContentTypeOptions, ResponseHeadersPolicyCorsConfig,
    ResponseHeadersPolicyCustomHeader, ResponseHeadersPolicyCustomHeadersConfig,
    ResponseHeadersPolicySecurityHeadersConfig, ResponseHeadersPolicyStrictTransportSecurity,
    ResponseHeadersPolicyType,
};
use serde::Serialize;

use super::{Etagged, Write, converge, delete_etagged};
use crate::aws::AwsError;
use crate::names::StackNames;
use crate::profile::{Delivery, Profile};

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
    pub fn for_profile(profile: &Profile, hi: &Delivery) -> Self {
        let stack = &profile.stack.name;
        ResponseHeadersPolicySpec {
            name: StackNames { stack }.response_headers_policy(),
            comment: format!("ahi-edge stack {stack}: CORS for viewers and security headers"),
            allow_origins: hi.auth.cors_allow_origins.clone(),
            allow_methods: ALLOWED_METHODS.iter().map(|m| m.to_string()).collect(),
            allow_headers: ALLOWED_HEADERS.iter().map(|h| h.to_string()).collect(),
            max_age_seconds: MAX_AGE_SECONDS,
            hsts_seconds: HSTS_SECONDS,
            nosniff: true,
            viewer_cache_control: profile.cloudfront.viewer_cache_control.clone(),
        }
    }

    fn to_config(&self) -> Result<ResponseHeadersPolicyConfig, AwsError> {
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

    fn from_config(config: &ResponseHeadersPolicyConfig) -> Self {
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

/// A policy as it exists, with the ETag a write must present.
pub type Live = Etagged<ResponseHeadersPolicySpec>;

pub async fn get(client: &Client, id: &str) -> Result<Option<Live>, AwsError> {
    match client.get_response_headers_policy().id(id).send().await {
        Ok(out) => {
            let missing = |field| AwsError::missing("GetResponseHeadersPolicy", field);
            let p = out
                .response_headers_policy()
                .ok_or_else(|| missing("ResponseHeadersPolicy"))?;
            let config = p
                .response_headers_policy_config()
                .ok_or_else(|| missing("ResponseHeadersPolicyConfig"))?;
            Ok(Some(Etagged {
                id: p.id().to_string(),
                etag: super::etag_of("GetResponseHeadersPolicy", out.e_tag())?,
                spec: ResponseHeadersPolicySpec::from_config(config),
            }))
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_response_headers_policy()) =>
        {
            Ok(None)
        }
        Err(e) => Err(AwsError::from_sdk("GetResponseHeadersPolicy", e)),
    }
}

/// The custom policy with this name (names are unique per account).
pub async fn find_by_name(client: &Client, name: &str) -> Result<Option<Live>, AwsError> {
    let mut marker: Option<String> = None;
    loop {
        let page = client
            .list_response_headers_policies()
            .r#type(ResponseHeadersPolicyType::Custom)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListResponseHeadersPolicies", e))?;
        let list = page.response_headers_policy_list();
        for summary in list.map(|l| l.items()).unwrap_or_default() {
            let Some(policy) = summary.response_headers_policy() else {
                continue;
            };
            if policy
                .response_headers_policy_config()
                .is_some_and(|c| c.name() == name)
            {
                return get(client, policy.id()).await;
            }
        }
        marker = list.and_then(|l| l.next_marker()).map(str::to_string);
        if marker.is_none() {
            return Ok(None);
        }
    }
}

/// Creates the policy; returns its id.
pub async fn create(client: &Client, spec: &ResponseHeadersPolicySpec) -> Result<String, AwsError> {
    let created = client
        .create_response_headers_policy()
        .response_headers_policy_config(spec.to_config()?)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("CreateResponseHeadersPolicy", e))?;
    created
        .response_headers_policy()
        .map(|p| p.id().to_string())
        .ok_or_else(|| AwsError::missing("CreateResponseHeadersPolicy", "ResponseHeadersPolicy.Id"))
}

/// Brings the policy `id` to `spec` with its current ETag, re-reading after
/// a stale one. No write when it already matches.
pub async fn update(client: &Client, id: &str, spec: &ResponseHeadersPolicySpec) -> Result<(), AwsError> {
    let config = spec.to_config()?;
    let current = get(client, id).await?.ok_or_else(|| AwsError {
        operation: "UpdateResponseHeadersPolicy",
        code: Some("NotFound".into()),
        message: format!("{id} was deleted while being updated; run again to re-create it"),
    })?;
    let update = async |live: &Live| match client
        .update_response_headers_policy()
        .id(&live.id)
        .if_match(&live.etag)
        .response_headers_policy_config(config.clone())
        .send()
        .await
    {
        Ok(_) => Ok(Write::Done),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_precondition_failed()) => Ok(Write::Stale),
        Err(e) => Err(AwsError::from_sdk("UpdateResponseHeadersPolicy", e)),
    };
    converge(
        current,
        spec,
        "UpdateResponseHeadersPolicy",
        async |id: &str| get(client, id).await,
        update,
    )
    .await?;
    Ok(())
}

/// Deletes the policy; one that is already gone counts as deleted.
/// `ResponseHeadersPolicyInUse` is returned as is: the distribution goes first.
pub async fn delete(client: &Client, id: &str) -> Result<(), AwsError> {
    let delete = async |etag: &str| match client
        .delete_response_headers_policy()
        .id(id)
        .if_match(etag)
        .send()
        .await
    {
        Ok(_) => Ok(Write::Done),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_response_headers_policy()) =>
        {
            Ok(Write::Done)
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_precondition_failed()) => Ok(Write::Stale),
        Err(e) => Err(AwsError::from_sdk("DeleteResponseHeadersPolicy", e)),
    };
    delete_etagged(
        id,
        "DeleteResponseHeadersPolicy",
        async |id: &str| get(client, id).await,
        delete,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_takes_the_profiles_origins_and_round_trips() {
        let text = include_str!("../../profiles/ahi-delivery.toml").replace(
            "cors_allow_origins = [\"*\"]",
            "cors_allow_origins = [\"https://viewer.example\"]",
        );
        let profile = crate::profile::check(std::path::Path::new("p.toml"), &text)
            .profile
            .unwrap();
        let spec = ResponseHeadersPolicySpec::for_profile(&profile, profile.delivery.as_ref().unwrap());
        assert_eq!(spec.name, "ahi-delivery-headers");
        assert_eq!(spec.allow_origins, ["https://viewer.example"]);
        assert_eq!(spec.allow_methods, ALLOWED_METHODS);
        assert_eq!(spec.viewer_cache_control, "private, no-store");
        assert_eq!(
            ResponseHeadersPolicySpec::from_config(&spec.to_config().unwrap()),
            spec
        );
    }
}
