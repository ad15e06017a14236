//! A signer's key group (`cloudfront-key-group`): the public keys a route's
//! behaviour trusts. Behaviours name the group, not the keys, so adding or
//! removing a key is one UpdateKeyGroup and no distribution deploy. No
//! tags: ours carry `ahi-edge stack <name>:` at the start of their comment.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::KeyGroupConfig;
use serde::{Deserialize, Serialize};

use super::cloudfront_policy::marked;
use super::json;
use crate::aws::{AwsError, sdk, unless};
use crate::stack::kind::{At, Found, Fut, Gone, Kind};
use crate::stack::teardown::{Options, retrying};
use crate::stack::{Ctx, StepError};

pub struct KeyGroup;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    /// Public key ids, in the profile's order.
    pub keys: Vec<String>,
    pub comment: String,
}

fn config(spec: &Spec) -> Result<KeyGroupConfig, AwsError> {
    KeyGroupConfig::builder()
        .name(&spec.name)
        .set_items(Some(spec.keys.clone()))
        .comment(&spec.comment)
        .build()
        .map_err(|e| AwsError {
            operation: "KeyGroupConfig",
            code: None,
            message: e.to_string(),
        })
}

async fn get(c: &Client, id: &str) -> Result<Option<(Spec, String)>, AwsError> {
    let out = unless(
        &["NoSuchResource"],
        c.get_key_group().id(id).send().await.map_err(sdk("GetKeyGroup")),
    )?;
    Ok(out.and_then(|o| {
        let config = o.key_group()?.key_group_config()?;
        Some((
            Spec {
                name: config.name().to_string(),
                keys: config.items().to_vec(),
                comment: config.comment().unwrap_or_default().to_string(),
            },
            o.e_tag()?.to_string(),
        ))
    }))
}

async fn find_by_name(c: &Client, name: &str) -> Result<Option<String>, AwsError> {
    let mut marker: Option<String> = None;
    loop {
        let out = c
            .list_key_groups()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(sdk("ListKeyGroups"))?;
        let list = out.key_group_list();
        if let Some(hit) = list
            .map(|l| l.items())
            .unwrap_or_default()
            .iter()
            .filter_map(|s| s.key_group())
            .find(|g| g.key_group_config().is_some_and(|c| c.name() == name))
        {
            return Ok(Some(hit.id().to_string()));
        }
        marker = list.and_then(|l| l.next_marker()).map(str::to_string);
        if marker.is_none() {
            return Ok(None);
        }
    }
}

impl Kind for KeyGroup {
    fn name(&self) -> &'static str {
        "cloudfront-key-group"
    }

    fn find<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Option<Found>> {
        Box::pin(async move {
            let c = cx.clients.cloudfront();
            let mut id = at.recorded().map(str::to_string);
            let mut live = match &id {
                Some(id) => get(&c, id).await?,
                None => None,
            };
            if live.is_none()
                && let Some(name) = at.field("name")
                && let Some(found) = find_by_name(&c, &name).await?
            {
                live = get(&c, &found).await?;
                id = Some(found);
            }
            Ok(live.zip(id).map(|((spec, _), id)| {
                let owned = marked(&spec.comment, cx.stack());
                let detail = format!("{} key(s)", spec.keys.len());
                Found::new(id, json(&spec), owned).detail(detail)
            }))
        })
    }

    fn create<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Found> {
        Box::pin(async move {
            let spec: Spec = at.spec()?;
            let out = cx
                .clients
                .cloudfront()
                .create_key_group()
                .key_group_config(config(&spec)?)
                .send()
                .await
                .map_err(sdk("CreateKeyGroup"))?;
            let id = out
                .key_group()
                .map(|g| g.id().to_string())
                .ok_or_else(|| AwsError::missing("CreateKeyGroup", "Id"))?;
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
            let c = cx.clients.cloudfront();
            let (_, etag) = get(&c, &live.physical_id)
                .await?
                .ok_or_else(|| StepError::Missing(format!("key group {} vanished", live.physical_id)))?;
            c.update_key_group()
                .id(&live.physical_id)
                .if_match(etag)
                .key_group_config(config(&spec)?)
                .send()
                .await
                .map_err(sdk("UpdateKeyGroup"))?;
            let mut found = live.clone();
            found.live = json(&spec);
            Ok(found)
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
            let c = cx.clients.cloudfront();
            let id = &live.physical_id;
            // In use until no behaviour trusts it.
            retrying(&["ResourceInUse", "PreconditionFailed"], 5, async || {
                let Some((_, etag)) = get(&c, id).await? else {
                    return Ok(());
                };
                match c.delete_key_group().id(id).if_match(etag).send().await {
                    Ok(_) => Ok(()),
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_resource()) => Ok(()),
                    Err(e) => Err(AwsError::from_sdk("DeleteKeyGroup", e)),
                }
            })
            .await?;
            Ok(Gone::Deleted)
        })
    }
}
