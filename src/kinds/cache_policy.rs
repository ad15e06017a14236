//! The distribution's CloudFront cache policy: no cookies, gzip and brotli,
//! TTLs 0 / 1 day / 1 year (the origin's Cache-Control decides within
//! them). Shared cache (the default): the HealthImaging routes' query
//! strings and the profile's cache headers, no credentials, so one cached
//! copy serves every signed-in viewer. Per-viewer: `authorization` and every
//! query string, the seed's key.

use aws_sdk_cloudfront::types::{
    CachePolicyConfig, CachePolicyCookieBehavior, CachePolicyCookiesConfig, CachePolicyHeaderBehavior,
    CachePolicyHeadersConfig, CachePolicyQueryStringBehavior, CachePolicyQueryStringsConfig, CachePolicyType,
    Headers, ParametersInCacheKeyAndForwardedToOrigin, QueryStringNames,
};
use serde::Serialize;

use super::cloudfront_policy::{Client, EtagApi, Page, Policy, etagged, got, need, page_of};
use crate::aws::{AwsError, sdk};
use crate::engine::kind::Typed;
use crate::resources::sets::follow;
use crate::resources::{Etagged, Write, written};

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
    pub(crate) fn to_config(&self) -> Result<CachePolicyConfig, AwsError> {
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
    pub(crate) fn from_config(config: &CachePolicyConfig) -> Self {
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

pub struct Api;

pub const CACHE_POLICY: Typed<Policy<Api>> = Typed(Policy(std::marker::PhantomData));

impl EtagApi for Api {
    type Spec = CachePolicySpec;
    const KIND: &'static str = "cloudfront-cache-policy";
    const GONE: &'static str = "NoSuchCachePolicy";
    const IN_USE: &'static str = "CachePolicyInUse";
    const UPDATE: &'static str = "UpdateCachePolicy";
    const DELETE: &'static str = "DeleteCachePolicy";

    fn comment(spec: &CachePolicySpec) -> &str {
        &spec.comment
    }

    fn follow_sets(live: &mut CachePolicySpec, spec: &CachePolicySpec) {
        follow(&mut live.headers, &spec.headers);
        follow(&mut live.query_string_names, &spec.query_string_names);
    }
    async fn get(c: &Client, id: &str) -> Result<Option<Etagged<CachePolicySpec>>, AwsError> {
        const OP: &str = "GetCachePolicy";
        let Some(out) = got(OP, Self::GONE, c.get_cache_policy().id(id).send().await)? else {
            return Ok(None);
        };
        let p = need(OP, "CachePolicy", out.cache_policy())?;
        let config = need(OP, "CachePolicyConfig", p.cache_policy_config())?;
        etagged(OP, p.id(), out.e_tag(), CachePolicySpec::from_config(config))
    }

    async fn page(c: &Client, marker: Option<String>) -> Result<Page, AwsError> {
        let call = c.list_cache_policies().r#type(CachePolicyType::Custom);
        let out = call
            .set_marker(marker)
            .send()
            .await
            .map_err(sdk("ListCachePolicies"))?;
        let list = out.cache_policy_list();
        let policies = list
            .map(|l| l.items())
            .unwrap_or_default()
            .iter()
            .filter_map(|s| s.cache_policy());
        let named =
            policies.filter_map(|p| Some((p.id().to_string(), p.cache_policy_config()?.name().to_string())));
        Ok(page_of(named, list.and_then(|l| l.next_marker())))
    }

    async fn create(c: &Client, spec: &CachePolicySpec) -> Result<String, AwsError> {
        let call = c.create_cache_policy().cache_policy_config(spec.to_config()?);
        let out = call.send().await.map_err(sdk("CreateCachePolicy"))?;
        Ok(need("CreateCachePolicy", "CachePolicy.Id", out.cache_policy())?
            .id()
            .to_string())
    }

    async fn put(c: &Client, id: &str, etag: &str, spec: &CachePolicySpec) -> Result<Write, AwsError> {
        let call = c.update_cache_policy().id(id).if_match(etag);
        written(
            Self::UPDATE,
            &[],
            call.cache_policy_config(spec.to_config()?).send().await,
        )
    }

    async fn remove(c: &Client, id: &str, etag: &str) -> Result<Write, AwsError> {
        let sent = c.delete_cache_policy().id(id).if_match(etag).send().await;
        written(Self::DELETE, &[Self::GONE], sent)
    }
}
