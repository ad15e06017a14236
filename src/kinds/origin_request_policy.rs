//! The distribution's origin request policy (`cloudfront-origin-request-policy`). CloudFront policies take no tags: ours carry the marker
//! `ahi-edge stack <name>:` at the start of their comment, and the lockfile
//! records their id. Found by recorded id, else by name (unique per account).

use super::json;
use crate::resources::origin_request_policy::{self as policy, OriginRequestPolicySpec};
use crate::stack::Ctx;
use crate::stack::kind::{At, Found, Fut, Gone, Kind};
use crate::stack::teardown::{Options, retrying};

pub struct OriginRequestPolicy;

pub type Spec = OriginRequestPolicySpec;

impl Kind for OriginRequestPolicy {
    fn name(&self) -> &'static str {
        "cloudfront-origin-request-policy"
    }

    fn replace_fields(&self) -> &'static [&'static str] {
        &["name"]
    }

    fn find<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Option<Found>> {
        Box::pin(async move {
            let client = cx.clients.cloudfront();
            let mut live = match at.recorded() {
                Some(id) => policy::get(&client, id).await?,
                None => None,
            };
            if live.is_none()
                && let Some(name) = at.field("name")
            {
                live = policy::find_by_name(&client, &name).await?;
            }
            Ok(live.map(|l| {
                let owned = super::cache_policy::marked(&l.spec.comment, cx.stack());
                Found::new(&l.id, json(&l.spec), owned)
            }))
        })
    }

    fn create<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Found> {
        Box::pin(async move {
            let spec: Spec = at.spec()?;
            let id = policy::create(&cx.clients.cloudfront(), &spec).await?;
            Ok(Found::new(id, json(&spec), true))
        })
    }

    fn update<'a>(
        &'a self,
        cx: &'a Ctx,
        at: &'a At<'a>,
        live: &'a Found,
        _fields: &'a [String],
    ) -> Fut<'a, Found> {
        Box::pin(async move {
            let spec: Spec = at.spec()?;
            policy::update(&cx.clients.cloudfront(), &live.physical_id, &spec).await?;
            Ok(Found::new(&live.physical_id, json(&spec), true))
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Ctx,
        _at: &'a At<'a>,
        live: &'a Found,
        _opts: &'a Options,
    ) -> Fut<'a, Gone> {
        Box::pin(async move {
            let client = cx.clients.cloudfront();
            // In use until the distribution that names it is updated or gone.
            retrying(&["OriginRequestPolicyInUse"], 5, async || {
                policy::delete(&client, &live.physical_id).await
            })
            .await?;
            Ok(Gone::Deleted)
        })
    }
}
