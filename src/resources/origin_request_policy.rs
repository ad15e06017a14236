//! The origin request policy: what CloudFront forwards to the ALB beyond
//! the cache key. All query strings, no cookies, and the CORS preflight
//! headers (the seed's parity: Origin, Access-Control-Request-Headers,
//! Access-Control-Request-Method). Same shape as `cache_policy`.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::{
    Headers, OriginRequestPolicyConfig, OriginRequestPolicyCookieBehavior, OriginRequestPolicyCookiesConfig,
    OriginRequestPolicyHeaderBehavior, OriginRequestPolicyHeadersConfig,
    OriginRequestPolicyQueryStringBehavior, OriginRequestPolicyQueryStringsConfig, OriginRequestPolicyType,
};
use serde::Serialize;

use super::Change;
use crate::aws::AwsError;
use crate::names::StackNames;
use crate::profile::Profile;

const STALE_ETAG_RETRIES: usize = 3;
pub const FORWARDED_HEADERS: [&str; 3] = [
    "Origin",
    "Access-Control-Request-Headers",
    "Access-Control-Request-Method",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OriginRequestPolicySpec {
    pub name: String,
    pub comment: String,
    pub headers: Vec<String>,
}

impl OriginRequestPolicySpec {
    pub fn for_profile(profile: &Profile) -> Self {
        let stack = &profile.stack.name;
        OriginRequestPolicySpec {
            name: StackNames { stack }.origin_request_policy(),
            comment: format!("ahi-edge stack {stack}: CORS preflight headers and query strings to the ALB"),
            headers: FORWARDED_HEADERS.iter().map(|h| h.to_string()).collect(),
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
                    .cookie_behavior(OriginRequestPolicyCookieBehavior::None)
                    .build()
                    .map_err(build)?,
            )
            .query_strings_config(
                OriginRequestPolicyQueryStringsConfig::builder()
                    .query_string_behavior(OriginRequestPolicyQueryStringBehavior::All)
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
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub id: String,
    pub etag: String,
    pub spec: OriginRequestPolicySpec,
}

pub async fn get(client: &Client, id: &str) -> Result<Option<Live>, AwsError> {
    match client.get_origin_request_policy().id(id).send().await {
        Ok(out) => Ok(out.origin_request_policy().and_then(|p| {
            Some(Live {
                id: p.id().to_string(),
                etag: out.e_tag().unwrap_or_default().to_string(),
                spec: OriginRequestPolicySpec::from_config(p.origin_request_policy_config()?),
            })
        })),
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

pub async fn ensure(
    client: &Client,
    spec: &OriginRequestPolicySpec,
    known_id: Option<&str>,
) -> Result<(String, Change), AwsError> {
    let mut live = match known_id {
        Some(id) => get(client, id).await?,
        None => None,
    };
    if live.is_none() {
        live = find_by_name(client, &spec.name).await?;
    }
    let Some(mut current) = live else {
        let created = client
            .create_origin_request_policy()
            .origin_request_policy_config(spec.to_config()?)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("CreateOriginRequestPolicy", e))?;
        let id = created
            .origin_request_policy()
            .map(|p| p.id().to_string())
            .unwrap_or_default();
        return Ok((id, Change::Created));
    };
    for _ in 0..=STALE_ETAG_RETRIES {
        if current.spec == *spec {
            return Ok((current.id, Change::Unchanged));
        }
        match client
            .update_origin_request_policy()
            .id(&current.id)
            .if_match(&current.etag)
            .origin_request_policy_config(spec.to_config()?)
            .send()
            .await
        {
            Ok(_) => return Ok((current.id, Change::Updated)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_precondition_failed()) => {
                current = get(client, &current.id).await?.ok_or_else(|| AwsError {
                    operation: "UpdateOriginRequestPolicy",
                    code: Some("NoSuchOriginRequestPolicy".into()),
                    message: format!(
                        "origin request policy {} was deleted while being updated; run again",
                        current.id
                    ),
                })?;
            }
            Err(e) => return Err(AwsError::from_sdk("UpdateOriginRequestPolicy", e)),
        }
    }
    Err(AwsError {
        operation: "UpdateOriginRequestPolicy",
        code: Some("PreconditionFailed".into()),
        message: format!(
            "origin request policy {} kept changing under us; run again",
            current.id
        ),
    })
}

pub async fn delete(client: &Client, id: &str) -> Result<(), AwsError> {
    for _ in 0..=STALE_ETAG_RETRIES {
        let Some(current) = get(client, id).await? else {
            return Ok(());
        };
        match client
            .delete_origin_request_policy()
            .id(id)
            .if_match(&current.etag)
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_origin_request_policy()) =>
            {
                return Ok(());
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_precondition_failed()) => continue,
            Err(e) => return Err(AwsError::from_sdk("DeleteOriginRequestPolicy", e)),
        }
    }
    Err(AwsError {
        operation: "DeleteOriginRequestPolicy",
        code: Some("PreconditionFailed".into()),
        message: format!("origin request policy {id} kept changing under us; run again"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
            OriginRequestPolicySpec::from_config(&spec.to_config().unwrap()),
            spec
        );
    }
}
