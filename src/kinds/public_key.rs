//! A signer's public key (`cloudfront-public-key`). CloudFront keeps public
//! keys immutable but for the comment, so a key's content is its identity:
//! the CallerReference and the name carry the PEM's digest, a changed PEM is
//! a new key (and a new instance), and rotation is create, add to the
//! group, drop from the group, delete. No tags: ours carry `ahi-edge stack
//! <name>:` at the start of their comment. The id CloudFront gives is the
//! `Key-Pair-Id` signed URLs carry (`outputs.id`).

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::PublicKeyConfig;
use serde::{Deserialize, Serialize};

use super::cloudfront_policy::marked;
use super::json;
use crate::aws::{AwsError, sdk, unless};
use crate::stack::kind::{At, Found, Fut, Gone, Kind};
use crate::stack::teardown::{Options, retrying};
use crate::stack::{Ctx, StepError};

pub struct PublicKey;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub caller_reference: String,
    /// The PEM (public: nothing secret), normalized to end with one newline.
    pub encoded_key: String,
    pub comment: String,
}

fn config(spec: &Spec) -> Result<PublicKeyConfig, AwsError> {
    PublicKeyConfig::builder()
        .name(&spec.name)
        .caller_reference(&spec.caller_reference)
        .encoded_key(&spec.encoded_key)
        .comment(&spec.comment)
        .build()
        .map_err(|e| AwsError {
            operation: "PublicKeyConfig",
            code: None,
            message: e.to_string(),
        })
}

/// The key by id, with its ETag.
async fn get(c: &Client, id: &str) -> Result<Option<(Spec, String)>, AwsError> {
    let out = unless(
        &["NoSuchPublicKey"],
        c.get_public_key()
            .id(id)
            .send()
            .await
            .map_err(sdk("GetPublicKey")),
    )?;
    Ok(out.and_then(|o| {
        let config = o.public_key()?.public_key_config()?;
        Some((
            Spec {
                name: config.name().to_string(),
                caller_reference: config.caller_reference().to_string(),
                encoded_key: config.encoded_key().to_string(),
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
            .list_public_keys()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(sdk("ListPublicKeys"))?;
        let list = out.public_key_list();
        if let Some(hit) = list
            .map(|l| l.items())
            .unwrap_or_default()
            .iter()
            .find(|k| k.name() == name)
        {
            return Ok(Some(hit.id().to_string()));
        }
        marker = list.and_then(|l| l.next_marker()).map(str::to_string);
        if marker.is_none() {
            return Ok(None);
        }
    }
}

impl Kind for PublicKey {
    fn name(&self) -> &'static str {
        "cloudfront-public-key"
    }

    /// Only the comment can change in place.
    fn replace_fields(&self) -> &'static [&'static str] {
        &["name", "caller_reference", "encoded_key"]
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
                Found::new(&id, json(&spec), owned).out("key_pair_id", &id)
            }))
        })
    }

    fn create<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Found> {
        Box::pin(async move {
            let spec: Spec = at.spec()?;
            let out = cx
                .clients
                .cloudfront()
                .create_public_key()
                .public_key_config(config(&spec)?)
                .send()
                .await
                .map_err(sdk("CreatePublicKey"))?;
            let id = out
                .public_key()
                .map(|k| k.id().to_string())
                .ok_or_else(|| AwsError::missing("CreatePublicKey", "Id"))?;
            Ok(Found::new(&id, json(&spec), true).out("key_pair_id", &id))
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
                .ok_or_else(|| StepError::Missing(format!("public key {} vanished", live.physical_id)))?;
            c.update_public_key()
                .id(&live.physical_id)
                .if_match(etag)
                .public_key_config(config(&spec)?)
                .send()
                .await
                .map_err(sdk("UpdatePublicKey"))?;
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
            // In use until its key group no longer lists it.
            retrying(&["PublicKeyInUse", "PreconditionFailed"], 5, async || {
                let Some((_, etag)) = get(&c, id).await? else {
                    return Ok(());
                };
                match c.delete_public_key().id(id).if_match(etag).send().await {
                    Ok(_) => Ok(()),
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_public_key()) => Ok(()),
                    Err(e) => Err(AwsError::from_sdk("DeletePublicKey", e)),
                }
            })
            .await?;
            Ok(Gone::Deleted)
        })
    }
}
