//! The origin request policy: what CloudFront forwards to the ALB beyond
//! the cache key. No query string beyond the cache key's (CloudFront always
//! forwards those), so the proxy reads exactly what the key names; no
//! cookies; the CORS preflight headers (the seed's parity: Origin,
//! Access-Control-Request-Headers, Access-Control-Request-Method). Same
//! shape as `cache_policy`.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::{
    Headers, OriginRequestPolicyConfig, OriginRequestPolicyCookieBehavior, OriginRequestPolicyCookiesConfig,
    OriginRequestPolicyHeaderBehavior, OriginRequestPolicyHeadersConfig,
    OriginRequestPolicyQueryStringBehavior, OriginRequestPolicyQueryStringsConfig, OriginRequestPolicyType,
};
use serde::Serialize;

use super::{Etagged, Write, converge, delete_etagged};
use crate::aws::AwsError;
use crate::names::StackNames;
use crate::profile::Profile;

pub const FORWARDED_HEADERS: [&str; 3] = [
    "Origin",
    "Access-Control-Request-Headers",
    "Access-Control-Request-Method",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct OriginRequestPolicySpec {
    pub name: String,
    pub comment: String,
    pub headers: Vec<String>,
    /// Cookie and query string behaviour (`none`, `all`...), as CloudFront names them.
    pub cookies: String,
    pub query_strings: String,
}

impl OriginRequestPolicySpec {
    pub fn for_profile(profile: &Profile) -> Self {
        let stack = &profile.stack.name;
        OriginRequestPolicySpec {
            name: StackNames { stack }.origin_request_policy(),
            comment: format!("ahi-edge stack {stack}: CORS preflight headers to the ALB"),
            headers: FORWARDED_HEADERS.iter().map(|h| h.to_string()).collect(),
            cookies: "none".into(),
            query_strings: "none".into(),
        }
    }

    fn to_config(&self) -> Result<OriginRequestPolicyConfig, AwsError> {
        let build = |e: aws_sdk_cloudfront::error::BuildError| AwsError {
            operation: "OriginRequestPolicyConfig",
            code: None,
            message: e.to_string(),
        };
        let headers = Headers::builder()
            .quantity(self.headers.len() as i32)
            .set_items(Some(self.headers.clone()))
            .build()
            .map_err(build)?;
        OriginRequestPolicyConfig::builder()
            .name(&self.name)
            .comment(&self.comment)
            .headers_config(
                OriginRequestPolicyHeadersConfig::builder()
                    .header_behavior(OriginRequestPolicyHeaderBehavior::Whitelist)
                    .headers(headers)
                    .build()
                    .map_err(build)?,
            )
            .cookies_config(
                OriginRequestPolicyCookiesConfig::builder()
                    .cookie_behavior(OriginRequestPolicyCookieBehavior::from(self.cookies.as_str()))
                    .build()
                    .map_err(build)?,
            )
            .query_strings_config(
                OriginRequestPolicyQueryStringsConfig::builder()
                    .query_string_behavior(OriginRequestPolicyQueryStringBehavior::from(
                        self.query_strings.as_str(),
                    ))
                    .build()
                    .map_err(build)?,
            )
            .build()
            .map_err(build)
    }

    fn from_config(config: &OriginRequestPolicyConfig) -> Self {
        OriginRequestPolicySpec {
            name: config.name().to_string(),
            comment: config.comment().unwrap_or_default().to_string(),
            headers: config
                .headers_config()
                .and_then(|h| h.headers())
                .map(|h| h.items().to_vec())
                .unwrap_or_default(),
            cookies: config
                .cookies_config()
                .map(|c| c.cookie_behavior().as_str().to_string())
                .unwrap_or_default(),
            query_strings: config
                .query_strings_config()
                .map(|q| q.query_string_behavior().as_str().to_string())
                .unwrap_or_default(),
        }
    }
}

/// A policy as it exists, with the ETag a write must present.
pub type Live = Etagged<OriginRequestPolicySpec>;

pub async fn get(client: &Client, id: &str) -> Result<Option<Live>, AwsError> {
    match client.get_origin_request_policy().id(id).send().await {
        Ok(out) => {
            let missing = |field| AwsError::missing("GetOriginRequestPolicy", field);
            let p = out
                .origin_request_policy()
                .ok_or_else(|| missing("OriginRequestPolicy"))?;
            let config = p
                .origin_request_policy_config()
                .ok_or_else(|| missing("OriginRequestPolicyConfig"))?;
            Ok(Some(Etagged {
                id: p.id().to_string(),
                etag: super::etag_of("GetOriginRequestPolicy", out.e_tag())?,
                spec: OriginRequestPolicySpec::from_config(config),
            }))
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_origin_request_policy()) =>
        {
            Ok(None)
        }
        Err(e) => Err(AwsError::from_sdk("GetOriginRequestPolicy", e)),
    }
}

pub async fn find_by_name(client: &Client, name: &str) -> Result<Option<Live>, AwsError> {
    let mut marker: Option<String> = None;
    loop {
        let page = client
            .list_origin_request_policies()
            .r#type(OriginRequestPolicyType::Custom)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListOriginRequestPolicies", e))?;
        let list = page.origin_request_policy_list();
        for summary in list.map(|l| l.items()).unwrap_or_default() {
            let Some(policy) = summary.origin_request_policy() else {
                continue;
            };
            if policy
                .origin_request_policy_config()
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
pub async fn create(client: &Client, spec: &OriginRequestPolicySpec) -> Result<String, AwsError> {
    let created = client
        .create_origin_request_policy()
        .origin_request_policy_config(spec.to_config()?)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("CreateOriginRequestPolicy", e))?;
    created
        .origin_request_policy()
        .map(|p| p.id().to_string())
        .ok_or_else(|| AwsError::missing("CreateOriginRequestPolicy", "OriginRequestPolicy.Id"))
}

/// Brings the policy `id` to `spec` with its current ETag, re-reading after
/// a stale one. No write when it already matches.
pub async fn update(client: &Client, id: &str, spec: &OriginRequestPolicySpec) -> Result<(), AwsError> {
    let config = spec.to_config()?;
    let current = get(client, id).await?.ok_or_else(|| AwsError {
        operation: "UpdateOriginRequestPolicy",
        code: Some("NotFound".into()),
        message: format!("{id} was deleted while being updated; run again to re-create it"),
    })?;
    let update = async |live: &Live| match client
        .update_origin_request_policy()
        .id(&live.id)
        .if_match(&live.etag)
        .origin_request_policy_config(config.clone())
        .send()
        .await
    {
        Ok(_) => Ok(Write::Done),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_precondition_failed()) => Ok(Write::Stale),
        Err(e) => Err(AwsError::from_sdk("UpdateOriginRequestPolicy", e)),
    };
    converge(
        current,
        spec,
        "UpdateOriginRequestPolicy",
        async |id: &str| get(client, id).await,
        update,
    )
    .await?;
    Ok(())
}

/// Deletes the policy; one that is already gone counts as deleted.
pub async fn delete(client: &Client, id: &str) -> Result<(), AwsError> {
    let delete = async |etag: &str| match client
        .delete_origin_request_policy()
        .id(id)
        .if_match(etag)
        .send()
        .await
    {
        Ok(_) => Ok(Write::Done),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_origin_request_policy()) =>
        {
            Ok(Write::Done)
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_precondition_failed()) => Ok(Write::Stale),
        Err(e) => Err(AwsError::from_sdk("DeleteOriginRequestPolicy", e)),
    };
    delete_etagged(
        id,
        "DeleteOriginRequestPolicy",
        async |id: &str| get(client, id).await,
        delete,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_comment_fits_for_the_longest_stack_name() {
        let text = include_str!("../../profiles/ahi-delivery.toml");
        let mut profile = crate::profile::check(std::path::Path::new("p.toml"), text)
            .profile
            .unwrap();
        profile.stack.name = "s".repeat(crate::names::max_stack_name_len("us-east-1"));
        let spec = OriginRequestPolicySpec::for_profile(&profile);
        assert!(
            spec.comment.len() <= crate::names::CLOUDFRONT_COMMENT_MAX,
            "{}",
            spec.comment
        );
    }

    #[test]
    fn the_spec_forwards_the_preflight_headers_and_round_trips() {
        let text = include_str!("../../profiles/ahi-delivery.toml");
        let profile = crate::profile::check(std::path::Path::new("p.toml"), text)
            .profile
            .unwrap();
        let spec = OriginRequestPolicySpec::for_profile(&profile);
        assert_eq!(spec.name, "ahi-delivery-origin-request");
        assert_eq!(spec.headers, FORWARDED_HEADERS);
        assert_eq!(
            spec.query_strings, "none",
            "no query string beyond the cache key's"
        );
        assert_eq!(
            OriginRequestPolicySpec::from_config(&spec.to_config().unwrap()),
            spec
        );
    }
}
