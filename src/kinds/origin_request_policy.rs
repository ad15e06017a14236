//! The origin request policy: what CloudFront forwards to the ALB beyond
//! the cache key. No query string beyond the cache key's (CloudFront always
//! forwards those), so the proxy reads exactly what the key names; no
//! cookies; the CORS preflight headers (the seed's parity: Origin,
//! Access-Control-Request-Headers, Access-Control-Request-Method). Same
//! shape as `cache_policy`.

use aws_sdk_cloudfront::types::{
    Headers, OriginRequestPolicyConfig, OriginRequestPolicyCookieBehavior, OriginRequestPolicyCookiesConfig,
    OriginRequestPolicyHeaderBehavior, OriginRequestPolicyHeadersConfig,
    OriginRequestPolicyQueryStringBehavior, OriginRequestPolicyQueryStringsConfig, OriginRequestPolicyType,
};
use serde::Serialize;

use super::cloudfront_policy::{Client, EtagApi, Page, Policy, etagged, got, need, page_of};
use crate::aws::{AwsError, sdk};
use crate::engine::kind::Typed;
use crate::resources::sets::follow;
use crate::resources::{Etagged, Write, written};

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
    pub(crate) fn to_config(&self) -> Result<OriginRequestPolicyConfig, AwsError> {
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

    pub(crate) fn from_config(config: &OriginRequestPolicyConfig) -> Self {
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

pub struct Api;

pub const ORIGIN_REQUEST_POLICY: Typed<Policy<Api>> = Typed(Policy(std::marker::PhantomData));

impl EtagApi for Api {
    type Spec = OriginRequestPolicySpec;
    const KIND: &'static str = "cloudfront-origin-request-policy";
    const GONE: &'static str = "NoSuchOriginRequestPolicy";
    const IN_USE: &'static str = "OriginRequestPolicyInUse";
    const UPDATE: &'static str = "UpdateOriginRequestPolicy";
    const DELETE: &'static str = "DeleteOriginRequestPolicy";

    fn comment(spec: &OriginRequestPolicySpec) -> &str {
        &spec.comment
    }

    fn follow_sets(live: &mut OriginRequestPolicySpec, spec: &OriginRequestPolicySpec) {
        follow(&mut live.headers, &spec.headers);
    }
    async fn get(c: &Client, id: &str) -> Result<Option<Etagged<OriginRequestPolicySpec>>, AwsError> {
        const OP: &str = "GetOriginRequestPolicy";
        let sent = c.get_origin_request_policy().id(id).send().await;
        let Some(out) = got(OP, Self::GONE, sent)? else {
            return Ok(None);
        };
        let p = need(OP, "OriginRequestPolicy", out.origin_request_policy())?;
        let config = need(OP, "OriginRequestPolicyConfig", p.origin_request_policy_config())?;
        etagged(
            OP,
            p.id(),
            out.e_tag(),
            OriginRequestPolicySpec::from_config(config),
        )
    }

    async fn page(c: &Client, marker: Option<String>) -> Result<Page, AwsError> {
        let call = c
            .list_origin_request_policies()
            .r#type(OriginRequestPolicyType::Custom);
        let out = call.set_marker(marker).send().await;
        let out = out.map_err(sdk("ListOriginRequestPolicies"))?;
        let list = out.origin_request_policy_list();
        let items = list.map(|l| l.items()).unwrap_or_default();
        let named = items.iter().filter_map(|s| {
            let p = s.origin_request_policy()?;
            Some((
                p.id().to_string(),
                p.origin_request_policy_config()?.name().to_string(),
            ))
        });
        Ok(page_of(named, list.and_then(|l| l.next_marker())))
    }

    async fn create(c: &Client, spec: &OriginRequestPolicySpec) -> Result<String, AwsError> {
        const OP: &str = "CreateOriginRequestPolicy";
        let call = c.create_origin_request_policy();
        let sent = call.origin_request_policy_config(spec.to_config()?).send().await;
        let out = sent.map_err(sdk(OP))?;
        Ok(need(OP, "OriginRequestPolicy.Id", out.origin_request_policy())?
            .id()
            .to_string())
    }

    async fn put(
        c: &Client,
        id: &str,
        etag: &str,
        spec: &OriginRequestPolicySpec,
    ) -> Result<Write, AwsError> {
        let call = c.update_origin_request_policy().id(id).if_match(etag);
        written(
            Self::UPDATE,
            &[],
            call.origin_request_policy_config(spec.to_config()?).send().await,
        )
    }

    async fn remove(c: &Client, id: &str, etag: &str) -> Result<Write, AwsError> {
        let sent = c
            .delete_origin_request_policy()
            .id(id)
            .if_match(etag)
            .send()
            .await;
        written(Self::DELETE, &[Self::GONE], sent)
    }
}
