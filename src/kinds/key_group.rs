//! A signer's key group (`cloudfront-key-group`): the public keys a route's
//! behaviour trusts. Behaviours name the group, not the keys, so adding or
//! removing a key is one UpdateKeyGroup and no distribution deploy. The
//! lifecycle is `cloudfront_policy`'s (no tags: the comment carries the
//! stack marker); this module is its API.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::KeyGroupConfig;
use serde::{Deserialize, Serialize};

use super::cloudfront_policy::{EtagApi, Policy};
use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::Typed;
use crate::resources::{Etagged, Write, etag_of, written};

pub struct Api;

pub const KEY_GROUP: Typed<Policy<Api>> = Typed(Policy(std::marker::PhantomData));

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    /// Public key ids, in the profile's order (a set to CloudFront).
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

impl EtagApi for Api {
    type Spec = Spec;
    const KIND: &'static str = "cloudfront-key-group";
    /// In use until no behaviour trusts it.
    const IN_USE: &'static str = "ResourceInUse";
    const UPDATE: &'static str = "UpdateKeyGroup";
    const DELETE: &'static str = "DeleteKeyGroup";

    fn deploy_note(action: &str) -> Option<&'static str> {
        (action == "update").then_some("key group update (seconds, no distribution deploy)")
    }

    fn comment(spec: &Spec) -> &str {
        &spec.comment
    }

    /// The keys are a set (Terraform's `items` is a `TypeSet`).
    fn follow_sets(live: &mut Spec, spec: &Spec) {
        crate::resources::sets::follow(&mut live.keys, &spec.keys);
    }

    async fn get(c: &Client, id: &str) -> Result<Option<Etagged<Spec>>, AwsError> {
        let out = unless(
            &["NoSuchResource"],
            c.get_key_group().id(id).send().await.map_err(sdk("GetKeyGroup")),
        )?;
        let Some(o) = out else {
            return Ok(None);
        };
        // Every field is required: a partial answer is an error, never
        // "not found" (which would make `up` create a second group).
        let config = o
            .key_group()
            .and_then(|g| g.key_group_config())
            .ok_or_else(|| AwsError::missing("GetKeyGroup", "KeyGroup.KeyGroupConfig"))?;
        Ok(Some(Etagged {
            id: id.to_string(),
            etag: etag_of("GetKeyGroup", o.e_tag())?,
            spec: Spec {
                name: config.name().to_string(),
                keys: config.items().to_vec(),
                comment: config.comment().unwrap_or_default().to_string(),
            },
        }))
    }

    async fn page(
        c: &Client,
        marker: Option<String>,
    ) -> Result<(Vec<(String, String)>, Option<String>), AwsError> {
        let out = c
            .list_key_groups()
            .set_marker(marker)
            .send()
            .await
            .map_err(sdk("ListKeyGroups"))?;
        let list = out.key_group_list();
        let items = list
            .map(|l| l.items())
            .unwrap_or_default()
            .iter()
            .filter_map(|s| s.key_group())
            .filter_map(|g| Some((g.id().to_string(), g.key_group_config()?.name().to_string())))
            .collect();
        Ok((items, list.and_then(|l| l.next_marker()).map(str::to_string)))
    }

    async fn create(c: &Client, spec: &Spec) -> Result<String, AwsError> {
        let out = c
            .create_key_group()
            .key_group_config(config(spec)?)
            .send()
            .await
            .map_err(sdk("CreateKeyGroup"))?;
        out.key_group()
            .map(|g| g.id().to_string())
            .ok_or_else(|| AwsError::missing("CreateKeyGroup", "Id"))
    }

    async fn put(c: &Client, id: &str, etag: &str, spec: &Spec) -> Result<Write, AwsError> {
        let sent = c
            .update_key_group()
            .id(id)
            .if_match(etag)
            .key_group_config(config(spec)?)
            .send()
            .await;
        written("UpdateKeyGroup", &[], sent)
    }

    async fn remove(c: &Client, id: &str, etag: &str) -> Result<Write, AwsError> {
        let sent = c.delete_key_group().id(id).if_match(etag).send().await;
        written("DeleteKeyGroup", &["NoSuchResource"], sent)
    }
}
