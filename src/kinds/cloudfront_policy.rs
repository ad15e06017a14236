//! CloudFront's untaggable, ETag-guarded entities, one kind each over the
//! same lifecycle: the distribution's policies (`cloudfront-cache-policy`,
//! `cloudfront-origin-request-policy`, `cloudfront-response-headers-policy`
//! here), and the Origin Access Control, public keys and key groups (their
//! APIs in `origin_access_control.rs`, `public_key.rs`, `key_group.rs`).
//! They take no tags: ours carry the marker `ahi-edge stack <name>:` at the
//! start of their comment (or description), and the lockfile records their
//! id. Found by recorded id, else by name (unique per account); every write
//! presents the current ETag; a delete retries while a distribution or a
//! key group still uses it.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::aws::AwsError;
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Resource, Typed};
use crate::engine::polls::until_released;
use crate::engine::step::{Cx, StepError};
use crate::resources::sets::follow;
use crate::resources::{Etagged, cache_policy, origin_request_policy, response_headers_policy};

type Client = aws_sdk_cloudfront::Client;

/// One CloudFront policy API (`resources::cache_policy`,
/// `resources::origin_request_policy`). Its futures are awaited in place,
/// never spawned, so they need no `Send` bound.
#[allow(async_fn_in_trait)]
pub trait PolicyApi: Sync {
    type Spec: Serialize + DeserializeOwned + PartialEq + Sync;
    const KIND: &'static str;
    /// What CloudFront answers a delete while a distribution uses it.
    const IN_USE: &'static str;
    /// Spec fields AWS cannot change in place.
    const REPLACE: &'static [&'static str] = &["name"];
    /// The spec field that is the create call's idempotency token (recorded
    /// with the intent), if the API takes one.
    const TOKEN: Option<&'static str> = None;
    fn comment(spec: &Self::Spec) -> &str;
    /// Gives `live`'s set-like lists `spec`'s order when they hold the same
    /// members (`resources::sets`): CloudFront may answer them in any order.
    fn follow_sets(_live: &mut Self::Spec, _spec: &Self::Spec) {}
    async fn get(c: &Client, id: &str) -> Result<Option<Etagged<Self::Spec>>, AwsError>;
    async fn find_by_name(c: &Client, name: &str) -> Result<Option<Etagged<Self::Spec>>, AwsError>;
    async fn create(c: &Client, spec: &Self::Spec) -> Result<String, AwsError>;
    async fn update(c: &Client, id: &str, spec: &Self::Spec) -> Result<(), AwsError>;
    async fn delete(c: &Client, id: &str) -> Result<(), AwsError>;
}

pub struct Policy<A: PolicyApi>(pub std::marker::PhantomData<A>);

pub struct Cache;
pub struct OriginRequest;
pub struct ResponseHeaders;

pub const CACHE_POLICY: Typed<Policy<Cache>> = Typed(Policy(std::marker::PhantomData));
pub const ORIGIN_REQUEST_POLICY: Typed<Policy<OriginRequest>> = Typed(Policy(std::marker::PhantomData));
pub const RESPONSE_HEADERS_POLICY: Typed<Policy<ResponseHeaders>> = Typed(Policy(std::marker::PhantomData));

impl PolicyApi for Cache {
    type Spec = cache_policy::CachePolicySpec;
    const KIND: &'static str = "cloudfront-cache-policy";
    const IN_USE: &'static str = "CachePolicyInUse";
    fn comment(spec: &Self::Spec) -> &str {
        &spec.comment
    }
    fn follow_sets(live: &mut Self::Spec, spec: &Self::Spec) {
        follow(&mut live.headers, &spec.headers);
        follow(&mut live.query_string_names, &spec.query_string_names);
    }
    async fn get(c: &Client, id: &str) -> Result<Option<Etagged<Self::Spec>>, AwsError> {
        cache_policy::get(c, id).await
    }
    async fn find_by_name(c: &Client, name: &str) -> Result<Option<Etagged<Self::Spec>>, AwsError> {
        cache_policy::find_by_name(c, name).await
    }
    async fn create(c: &Client, spec: &Self::Spec) -> Result<String, AwsError> {
        cache_policy::create(c, spec).await
    }
    async fn update(c: &Client, id: &str, spec: &Self::Spec) -> Result<(), AwsError> {
        cache_policy::update(c, id, spec).await
    }
    async fn delete(c: &Client, id: &str) -> Result<(), AwsError> {
        cache_policy::delete(c, id).await
    }
}

impl PolicyApi for OriginRequest {
    type Spec = origin_request_policy::OriginRequestPolicySpec;
    const KIND: &'static str = "cloudfront-origin-request-policy";
    const IN_USE: &'static str = "OriginRequestPolicyInUse";
    fn comment(spec: &Self::Spec) -> &str {
        &spec.comment
    }
    fn follow_sets(live: &mut Self::Spec, spec: &Self::Spec) {
        follow(&mut live.headers, &spec.headers);
    }
    async fn get(c: &Client, id: &str) -> Result<Option<Etagged<Self::Spec>>, AwsError> {
        origin_request_policy::get(c, id).await
    }
    async fn find_by_name(c: &Client, name: &str) -> Result<Option<Etagged<Self::Spec>>, AwsError> {
        origin_request_policy::find_by_name(c, name).await
    }
    async fn create(c: &Client, spec: &Self::Spec) -> Result<String, AwsError> {
        origin_request_policy::create(c, spec).await
    }
    async fn update(c: &Client, id: &str, spec: &Self::Spec) -> Result<(), AwsError> {
        origin_request_policy::update(c, id, spec).await
    }
    async fn delete(c: &Client, id: &str) -> Result<(), AwsError> {
        origin_request_policy::delete(c, id).await
    }
}

impl PolicyApi for ResponseHeaders {
    type Spec = response_headers_policy::ResponseHeadersPolicySpec;
    const KIND: &'static str = "cloudfront-response-headers-policy";
    const IN_USE: &'static str = "ResponseHeadersPolicyInUse";
    fn comment(spec: &Self::Spec) -> &str {
        &spec.comment
    }
    async fn get(c: &Client, id: &str) -> Result<Option<Etagged<Self::Spec>>, AwsError> {
        response_headers_policy::get(c, id).await
    }
    async fn find_by_name(c: &Client, name: &str) -> Result<Option<Etagged<Self::Spec>>, AwsError> {
        response_headers_policy::find_by_name(c, name).await
    }
    async fn create(c: &Client, spec: &Self::Spec) -> Result<String, AwsError> {
        response_headers_policy::create(c, spec).await
    }
    async fn update(c: &Client, id: &str, spec: &Self::Spec) -> Result<(), AwsError> {
        response_headers_policy::update(c, id, spec).await
    }
    async fn delete(c: &Client, id: &str) -> Result<(), AwsError> {
        response_headers_policy::delete(c, id).await
    }
}

/// Whether a CloudFront policy's comment marks it as this stack's.
pub fn marked(comment: &str, stack: &str) -> bool {
    comment.starts_with(&format!("ahi-edge stack {stack}:"))
}

impl<A: PolicyApi> Resource for Policy<A> {
    type Spec = A::Spec;
    const NAME: &'static str = A::KIND;

    fn replace_fields(&self) -> &'static [&'static str] {
        A::REPLACE
    }

    fn token_field(&self) -> Option<&'static str> {
        A::TOKEN
    }

    async fn find(&self, cx: &Cx, at: &At<'_, Self::Spec>) -> Result<Option<Found>, StepError> {
        let client = cx.clients.cloudfront();
        let mut live = match at.recorded() {
            Some(id) => A::get(&client, id).await?,
            None => None,
        };
        if live.is_none()
            && let Some(name) = at.field("name")
        {
            live = A::find_by_name(&client, &name).await?;
        }
        // A migrated entry has no spec: nothing to take an order from.
        let spec = at.spec().ok();
        Ok(live.map(|mut l| {
            if let Some(spec) = spec {
                A::follow_sets(&mut l.spec, spec);
            }
            let owned = marked(A::comment(&l.spec), cx.stack());
            Found::new(&l.id, &l.spec, owned)
        }))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Self::Spec>) -> Result<Found, StepError> {
        let spec = at.spec()?;
        let id = A::create(&cx.clients.cloudfront(), spec).await?;
        Ok(Found::new(id, spec, true))
    }

    async fn update(
        &self,
        cx: &Cx,
        at: &At<'_, Self::Spec>,
        live: &Found,
        _fields: &[String],
    ) -> Result<Found, StepError> {
        let spec = at.spec()?;
        A::update(&cx.clients.cloudfront(), &live.physical_id, spec).await?;
        Ok(Found::new(&live.physical_id, spec, true))
    }

    async fn delete(
        &self,
        cx: &Cx,
        at: &At<'_, Self::Spec>,
        live: &Found,
        _opts: &Options,
    ) -> Result<Gone, StepError> {
        let client = cx.clients.cloudfront();
        // In use until the distribution that names it is updated or gone,
        // and CloudFront has let go (bounded by a distribution's deploy).
        let what = format!("{} {}", A::KIND, live.physical_id);
        until_released(cx, at.id, &what, &[A::IN_USE, "PreconditionFailed"], async || {
            A::delete(&client, &live.physical_id).await
        })
        .await?;
        Ok(Gone::Deleted)
    }
}
