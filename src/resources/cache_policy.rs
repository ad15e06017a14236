//! The distribution's CloudFront cache policy: no cookies, gzip and brotli,
//! TTLs 0 / 1 day / 1 year (the origin's Cache-Control decides within
//! them). Shared cache (the default): the HealthImaging routes' query
//! strings and the profile's cache headers, no credentials, so one cached
//! copy serves every signed-in viewer. Per-viewer: `authorization` and every
//! query string, the seed's key.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::{
    CachePolicyConfig, CachePolicyCookieBehavior, CachePolicyCookiesConfig, CachePolicyHeaderBehavior,
    CachePolicyHeadersConfig, CachePolicyQueryStringBehavior, CachePolicyQueryStringsConfig, CachePolicyType,
    Headers, ParametersInCacheKeyAndForwardedToOrigin, QueryStringNames,
};
use serde::Serialize;

use super::{Etagged, Write, converge, delete_etagged};
use crate::aws::AwsError;
use crate::names::StackNames;
use crate::profile::{CACHE_QUERY_STRINGS, Profile};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CachePolicySpec {
    pub name: String,
    pub comment: String,
    pub min_ttl: i64,
    pub default_ttl: i64,
    pub max_ttl: i64,
    pub headers: Vec<String>,
    /// Cookie and query string behaviour (`none`, `all`...), as CloudFront names them.
    pub cookies: String,
    pub query_strings: String,
    /// The query strings named by a `whitelist` behaviour.
    pub query_string_names: Vec<String>,
    pub gzip: bool,
    pub brotli: bool,
}

impl CachePolicySpec {
    pub fn for_profile(profile: &Profile) -> Self {
        let stack = &profile.stack.name;
        // Both scopes key on the canonical parameters the enabled
        // operations take (the edge rewrites every HealthImaging query to
        // them), never on "all": nothing else can split or merge entries.
        let query_strings = "whitelist";
        let query_string_names = cache_query_strings(profile);
        CachePolicySpec {
            name: StackNames { stack }.cache_policy(),
            comment: format!("ahi-edge stack {stack}: HealthImaging frames and metadata"),
            min_ttl: 0,
            default_ttl: 86_400,
            max_ttl: 31_536_000,
            headers: profile.cloudfront.cache_key_headers(),
            cookies: "none".into(),
            query_strings: query_strings.into(),
            query_string_names,
            gzip: true,
            brotli: true,
        }
    }

    fn to_config(&self) -> Result<CachePolicyConfig, AwsError> {
        let build = |e: aws_sdk_cloudfront::error::BuildError| AwsError {
            operation: "CachePolicyConfig",
            code: None,
            message: e.to_string(),
        };
        let headers = if self.headers.is_empty() {
            CachePolicyHeadersConfig::builder().header_behavior(CachePolicyHeaderBehavior::None)
        } else {
            CachePolicyHeadersConfig::builder()
                .header_behavior(CachePolicyHeaderBehavior::Whitelist)
                .headers(
                    Headers::builder()
                        .quantity(self.headers.len() as i32)
                        .set_items(Some(self.headers.clone()))
                        .build()
                        .map_err(build)?,
                )
        };
        let parameters = ParametersInCacheKeyAndForwardedToOrigin::builder()
            .enable_accept_encoding_gzip(self.gzip)
            .enable_accept_encoding_brotli(self.brotli)
            .headers_config(headers.build().map_err(build)?)
            .cookies_config(
                CachePolicyCookiesConfig::builder()
                    .cookie_behavior(CachePolicyCookieBehavior::from(self.cookies.as_str()))
                    .build()
                    .map_err(build)?,
            )
            .query_strings_config(
                CachePolicyQueryStringsConfig::builder()
                    .query_string_behavior(CachePolicyQueryStringBehavior::from(self.query_strings.as_str()))
                    .set_query_strings(match self.query_string_names.is_empty() {
                        true => None,
                        false => Some(
                            QueryStringNames::builder()
                                .quantity(self.query_string_names.len() as i32)
                                .set_items(Some(self.query_string_names.clone()))
                                .build()
                                .map_err(build)?,
                        ),
                    })
                    .build()
                    .map_err(build)?,
            )
            .build()
            .map_err(build)?;
        CachePolicyConfig::builder()
            .name(&self.name)
            .comment(&self.comment)
            .min_ttl(self.min_ttl)
            .default_ttl(self.default_ttl)
            .max_ttl(self.max_ttl)
            .parameters_in_cache_key_and_forwarded_to_origin(parameters)
            .build()
            .map_err(build)
    }

    /// The spec a live policy amounts to, for comparison with the desired one.
    fn from_config(config: &CachePolicyConfig) -> Self {
        let parameters = config.parameters_in_cache_key_and_forwarded_to_origin();
        CachePolicySpec {
            name: config.name().to_string(),
            comment: config.comment().unwrap_or_default().to_string(),
            min_ttl: config.min_ttl(),
            default_ttl: config.default_ttl().unwrap_or_default(),
            max_ttl: config.max_ttl().unwrap_or_default(),
            headers: parameters
                .and_then(|p| p.headers_config())
                .and_then(|h| h.headers())
                .map(|h| h.items().to_vec())
                .unwrap_or_default(),
            cookies: parameters
                .and_then(|p| p.cookies_config())
                .map(|c| c.cookie_behavior().as_str().to_string())
                .unwrap_or_default(),
            query_strings: parameters
                .and_then(|p| p.query_strings_config())
                .map(|q| q.query_string_behavior().as_str().to_string())
                .unwrap_or_default(),
            query_string_names: parameters
                .and_then(|p| p.query_strings_config())
                .and_then(|q| q.query_strings())
                .map(|q| q.items().to_vec())
                .unwrap_or_default(),
            gzip: parameters.is_some_and(|p| p.enable_accept_encoding_gzip()),
            brotli: parameters.is_some_and(|p| p.enable_accept_encoding_brotli().unwrap_or(false)),
        }
    }
}

/// The query strings of the cache key: those the enabled operations take
/// (frames `imageFrameId`, metadata `version`, listings the paging pair),
/// in [`CACHE_QUERY_STRINGS`]' order.
pub fn cache_query_strings(profile: &Profile) -> Vec<String> {
    use crate::profile::Operation;
    let ops = profile
        .delivery
        .as_ref()
        .map(|d| d.healthimaging.operations.clone())
        .unwrap_or_default();
    let takes = |name: &str| match name {
        "imageFrameId" => ops.contains(&Operation::GetImageFrame),
        "version" => ops.contains(&Operation::GetImageSetMetadata) || ops.contains(&Operation::GetImageSet),
        _ => ops.contains(&Operation::ListImageSetVersions) || ops.contains(&Operation::SearchImageSets),
    };
    CACHE_QUERY_STRINGS
        .iter()
        .filter(|q| takes(q))
        .map(|q| q.to_string())
        .collect()
}

/// A policy as it exists, with the ETag a write must present.
pub type Live = Etagged<CachePolicySpec>;

/// The policy with this id, if it exists.
pub async fn get(client: &Client, id: &str) -> Result<Option<Live>, AwsError> {
    match client.get_cache_policy().id(id).send().await {
        Ok(out) => {
            let p = out
                .cache_policy()
                .ok_or_else(|| AwsError::missing("GetCachePolicy", "CachePolicy"))?;
            Ok(Some(Etagged {
                id: p.id().to_string(),
                etag: super::etag_of("GetCachePolicy", out.e_tag())?,
                spec: CachePolicySpec::from_config(p.cache_policy_config().unwrap_or(&empty_config())),
            }))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_cache_policy()) => Ok(None),
        Err(e) => Err(AwsError::from_sdk("GetCachePolicy", e)),
    }
}

fn empty_config() -> CachePolicyConfig {
    CachePolicyConfig::builder()
        .name("")
        .min_ttl(0)
        .build()
        .expect("name and min_ttl are set")
}

/// The custom policy with this name (names are unique per account).
pub async fn find_by_name(client: &Client, name: &str) -> Result<Option<Live>, AwsError> {
    let mut marker: Option<String> = None;
    loop {
        let page = client
            .list_cache_policies()
            .r#type(CachePolicyType::Custom)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListCachePolicies", e))?;
        let list = page.cache_policy_list();
        for summary in list.map(|l| l.items()).unwrap_or_default() {
            let Some(policy) = summary.cache_policy() else {
                continue;
            };
            if policy.cache_policy_config().is_some_and(|c| c.name() == name) {
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
pub async fn create(client: &Client, spec: &CachePolicySpec) -> Result<String, AwsError> {
    let created = client
        .create_cache_policy()
        .cache_policy_config(spec.to_config()?)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("CreateCachePolicy", e))?;
    created
        .cache_policy()
        .map(|p| p.id().to_string())
        .ok_or_else(|| AwsError::missing("CreateCachePolicy", "CachePolicy.Id"))
}

/// Brings the policy `id` to `spec` with its current ETag, re-reading after
/// a stale one. No write when it already matches.
pub async fn update(client: &Client, id: &str, spec: &CachePolicySpec) -> Result<(), AwsError> {
    let config = spec.to_config()?;
    let current = get(client, id).await?.ok_or_else(|| AwsError {
        operation: "UpdateCachePolicy",
        code: Some("NotFound".into()),
        message: format!("{id} was deleted while being updated; run again to re-create it"),
    })?;
    let update = async |live: &Live| match client
        .update_cache_policy()
        .id(&live.id)
        .if_match(&live.etag)
        .cache_policy_config(config.clone())
        .send()
        .await
    {
        Ok(_) => Ok(Write::Done),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_precondition_failed()) => Ok(Write::Stale),
        Err(e) => Err(AwsError::from_sdk("UpdateCachePolicy", e)),
    };
    converge(
        current,
        spec,
        "UpdateCachePolicy",
        async |id: &str| get(client, id).await,
        update,
    )
    .await?;
    Ok(())
}

/// Deletes the policy; one that is already gone counts as deleted.
/// `CachePolicyInUse` is returned as is: the distribution must go first.
pub async fn delete(client: &Client, id: &str) -> Result<(), AwsError> {
    let delete = async |etag: &str| match client.delete_cache_policy().id(id).if_match(etag).send().await {
        Ok(_) => Ok(Write::Done),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_cache_policy()) => Ok(Write::Done),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_precondition_failed()) => Ok(Write::Stale),
        Err(e) => Err(AwsError::from_sdk("DeleteCachePolicy", e)),
    };
    delete_etagged(
        id,
        "DeleteCachePolicy",
        async |id: &str| get(client, id).await,
        delete,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        let text = include_str!("../../profiles/ahi-delivery.toml");
        crate::profile::check(std::path::Path::new("p.toml"), text)
            .profile
            .unwrap()
    }

    #[test]
    fn the_comment_fits_for_the_longest_stack_name() {
        let mut profile = profile();
        profile.stack.name = "s".repeat(crate::names::max_stack_name_len("us-east-1"));
        let spec = CachePolicySpec::for_profile(&profile);
        assert!(
            spec.comment.len() <= crate::names::CLOUDFRONT_COMMENT_MAX,
            "{}",
            spec.comment
        );
    }

    #[test]
    fn the_key_holds_the_enabled_operations_parameters_in_either_scope() {
        let text = include_str!("../../profiles/ahi-delivery.toml")
            .replace(
                "operations = [\"GetImageFrame\", \"GetImageSetMetadata\", \"GetImageSet\"]",
                "operations = [\"GetImageFrame\", \"SearchImageSets\"]",
            )
            .replace("cache = \"shared\"", "cache = \"per_viewer\"");
        let report = crate::profile::check(std::path::Path::new("p.toml"), &text);
        let spec = CachePolicySpec::for_profile(&report.profile.expect("valid"));
        assert_eq!(spec.query_strings, "whitelist");
        assert_eq!(
            spec.query_string_names,
            ["imageFrameId", "maxResults", "nextToken"]
        );
        assert_eq!(spec.headers, ["authorization"]);
    }

    #[test]
    fn the_spec_follows_the_profile_and_survives_a_round_trip() {
        let spec = CachePolicySpec::for_profile(&profile());
        assert_eq!(spec.name, "ahi-delivery-cache");
        assert!(spec.headers.is_empty(), "the shared cache keys on no credentials");
        assert_eq!(spec.query_strings, "whitelist");
        assert_eq!(spec.query_string_names, ["imageFrameId", "version"]);
        assert_eq!(
            (spec.min_ttl, spec.default_ttl, spec.max_ttl),
            (0, 86_400, 31_536_000)
        );
        assert!(spec.gzip && spec.brotli);
        let config = spec.to_config().unwrap();
        assert_eq!(CachePolicySpec::from_config(&config), spec);
        let per_viewer = CachePolicySpec {
            headers: vec!["authorization".into()],
            ..spec
        };
        assert_eq!(
            CachePolicySpec::from_config(&per_viewer.to_config().unwrap()),
            per_viewer
        );
    }
}
