//! CloudFront's untaggable, ETag-guarded entities, one kind each over the
//! same lifecycle: the distribution's policies (`cache_policy.rs`,
//! `origin_request_policy.rs`, `response_headers_policy.rs`), the Origin
//! Access Control, public keys and key groups. Each of those modules is an
//! [`EtagApi`]: one SDK call per method. Everything else is here, once:
//! found by recorded id, else by name (unique per account, paged); every
//! write presents the current ETag and, when CloudFront answers
//! `PreconditionFailed`, re-reads and tries again; a delete waits while a
//! distribution or a key group still uses it. They take no tags: ours carry
//! the marker `ahi-edge stack <name>:` at the start of their comment (or
//! description), and the lockfile records their id.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::{At, Found, Gone, Options, Resource};
use crate::engine::polls::until_released;
use crate::engine::step::{Cx, Step};
use crate::resources::{Etagged, Write, converge, delete_etagged, etag_of};

pub type Client = aws_sdk_cloudfront::Client;

/// One ETag-guarded CloudFront API, a call per method. Its futures are
/// awaited in place, never spawned, so they need no `Send` bound.
#[allow(async_fn_in_trait)]
pub trait EtagApi: Sync {
    type Spec: Serialize + DeserializeOwned + PartialEq + Sync;
    const KIND: &'static str;
    /// What CloudFront answers for an id that does not exist (`NoSuch...`).
    const GONE: &'static str;
    /// What CloudFront answers a delete while something uses it.
    const IN_USE: &'static str;
    /// Spec fields AWS cannot change in place.
    const REPLACE: &'static [&'static str] = &["name"];
    /// The spec field that is the create call's idempotency token (recorded
    /// with the intent), if the API takes one.
    const TOKEN: Option<&'static str> = None;
    /// The update and delete operations, as errors name them.
    const UPDATE: &'static str;
    const DELETE: &'static str;
    fn comment(spec: &Self::Spec) -> &str;
    /// What a change waits for at the edge (`Resource::deploy_note`).
    fn deploy_note(_action: &str) -> Option<&'static str> {
        None
    }
    /// Gives `live`'s set-like lists `spec`'s order when they hold the same
    /// members (`resources::sets`): CloudFront may answer them in any order.
    fn follow_sets(_live: &mut Self::Spec, _spec: &Self::Spec) {}
    /// The entity with this id and its ETag; `None` when it does not exist.
    /// An answer without the config or the ETag is an error.
    async fn get(c: &Client, id: &str) -> Result<Option<Etagged<Self::Spec>>, AwsError>;
    /// One page of the account's (custom) entities as (id, name), and the
    /// marker of the next page.
    async fn page(c: &Client, marker: Option<String>) -> Result<Page, AwsError>;
    /// Creates it; returns its id.
    async fn create(c: &Client, spec: &Self::Spec) -> Result<String, AwsError>;
    /// One update presenting `etag` (`resources::written` reads the answer).
    async fn put(c: &Client, id: &str, etag: &str, spec: &Self::Spec) -> Result<Write, AwsError>;
    /// One delete presenting `etag`; already gone is `Done`.
    async fn remove(c: &Client, id: &str, etag: &str) -> Result<Write, AwsError>;
}

pub struct Policy<A: EtagApi>(pub std::marker::PhantomData<A>);

/// One page of a List answer: (id, name) of each entity, and the marker of
/// the next page.
pub type Page = (Vec<(String, String)>, Option<String>);

type Sent<T, E> = Result<T, aws_sdk_cloudfront::error::SdkError<E>>;

/// A Get answer; `None` when CloudFront says `gone` (no such entity).
pub fn got<T, E>(op: &'static str, gone: &str, sent: Sent<T, E>) -> Result<Option<T>, AwsError>
where
    E: aws_sdk_cloudfront::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    unless(&[gone], sent.map_err(sdk(op)))
}

/// A part every answer of `op` carries: absent, an error naming it, never
/// a default that would read as drift or as "not found".
pub fn need<T>(op: &'static str, part: &str, value: Option<T>) -> Result<T, AwsError> {
    value.ok_or_else(|| AwsError::missing(op, part))
}

/// The entity a Get answered, with the ETag every later write presents.
pub fn etagged<S>(
    op: &'static str,
    id: &str,
    etag: Option<&str>,
    spec: S,
) -> Result<Option<Etagged<S>>, AwsError> {
    Ok(Some(Etagged {
        id: id.to_string(),
        etag: etag_of(op, etag)?,
        spec,
    }))
}

/// A page from a List answer's (id, name) pairs and its next marker.
pub fn page_of(items: impl Iterator<Item = (String, String)>, next: Option<&str>) -> Page {
    (items.collect(), next.map(str::to_string))
}

/// Whether a CloudFront entity's comment marks it as this stack's.
pub fn marked(comment: &str, stack: &str) -> bool {
    comment.starts_with(&format!("ahi-edge stack {stack}:"))
}

/// The entity named `name`, paging through the account's.
pub async fn find_by_name<A: EtagApi>(c: &Client, name: &str) -> Result<Option<Etagged<A::Spec>>, AwsError> {
    let mut marker = None;
    loop {
        let (items, next) = A::page(c, marker).await?;
        if let Some((id, _)) = items.iter().find(|(_, n)| n == name) {
            return A::get(c, id).await;
        }
        match next {
            Some(next) => marker = Some(next),
            None => return Ok(None),
        }
    }
}

/// Brings entity `id` to `spec` with its current ETag, re-reading after a
/// stale one; no write when it already matches.
pub async fn update<A: EtagApi>(c: &Client, id: &str, spec: &A::Spec) -> Result<(), AwsError> {
    let live = A::get(c, id).await?.ok_or_else(|| AwsError {
        operation: A::UPDATE,
        code: Some("NotFound".into()),
        message: format!("{id} was deleted while being updated; run again to re-create it"),
    })?;
    let put = async |live: &Etagged<A::Spec>| A::put(c, &live.id, &live.etag, spec).await;
    converge(live, spec, A::UPDATE, async |id: &str| A::get(c, id).await, put).await?;
    Ok(())
}

/// Deletes entity `id` with its current ETag, re-reading after a stale
/// one; already gone counts as deleted. `*InUse` is returned as is.
pub async fn delete<A: EtagApi>(c: &Client, id: &str) -> Result<(), AwsError> {
    let remove = async |etag: &str| A::remove(c, id, etag).await;
    delete_etagged(id, A::DELETE, async |id: &str| A::get(c, id).await, remove).await
}

impl<A: EtagApi> Resource for Policy<A> {
    type Spec = A::Spec;
    const NAME: &'static str = A::KIND;

    const REPLACE: &'static [&'static str] = A::REPLACE;

    const TOKEN: Option<&'static str> = A::TOKEN;

    fn deploy_note(&self, action: &str) -> Option<&'static str> {
        A::deploy_note(action)
    }

    async fn find(&self, cx: &Cx, at: &At<'_, Self::Spec>) -> Step<Option<Found>> {
        let client = cx.clients.cloudfront();
        let mut live = match at.recorded() {
            Some(id) => A::get(&client, id).await?,
            None => None,
        };
        if live.is_none()
            && let Some(name) = at.field("name")
        {
            live = find_by_name::<A>(&client, &name).await?;
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

    async fn create(&self, cx: &Cx, at: &At<'_, Self::Spec>) -> Step<Found> {
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
    ) -> Step<Found> {
        let spec = at.spec()?;
        update::<A>(&cx.clients.cloudfront(), &live.physical_id, spec).await?;
        Ok(Found::new(&live.physical_id, spec, true))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Self::Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        let c = cx.clients.cloudfront();
        let id = live.physical_id.as_str();
        // In use until the distribution that names it is updated or gone,
        // and CloudFront has let go (bounded by a distribution's deploy).
        let what = format!("{} {id}", A::KIND);
        until_released(cx, at.id, &what, &[A::IN_USE, "PreconditionFailed"], async || {
            delete::<A>(&c, id).await
        })
        .await?;
        Ok(Gone::Deleted)
    }
}
