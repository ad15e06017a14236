//! A signer's key group (`cloudfront-key-group`): the public keys a route's
//! behaviour trusts. Behaviours name the group, not the keys, so adding or
//! removing a key is one UpdateKeyGroup and no distribution deploy. The
//! lifecycle is `cloudfront_policy`'s (no tags: the comment carries the
//! stack marker); this module is its API.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::KeyGroupConfig;
use serde::{Deserialize, Serialize};

use super::cloudfront_policy::{EtagApi, Page, Policy, etagged, got, need, page_of};
use crate::aws::{AwsError, sdk};
use crate::engine::kind::Typed;
use crate::resources::{Etagged, Write, written};

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
    const GONE: &'static str = "NoSuchResource";
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
        const OP: &str = "GetKeyGroup";
        let Some(out) = got(OP, Self::GONE, c.get_key_group().id(id).send().await)? else {
            return Ok(None);
        };
        // A partial answer is an error, never "not found" (which would make
        // `up` create a second group).
        let group = need(OP, "KeyGroup", out.key_group())?;
        let config = need(OP, "KeyGroupConfig", group.key_group_config())?;
        let spec = Spec {
            name: config.name().to_string(),
            keys: config.items().to_vec(),
            comment: config.comment().unwrap_or_default().to_string(),
        };
        etagged(OP, id, out.e_tag(), spec)
    }

    async fn page(c: &Client, marker: Option<String>) -> Result<Page, AwsError> {
        let sent = c.list_key_groups().set_marker(marker).send().await;
        let out = sent.map_err(sdk("ListKeyGroups"))?;
        let list = out.key_group_list();
        let items = list.map(|l| l.items()).unwrap_or_default();
        let named = items.iter().filter_map(|s| {
            let g = s.key_group()?;
            Some((g.id().to_string(), g.key_group_config()?.name().to_string()))
        });
        Ok(page_of(named, list.and_then(|l| l.next_marker())))
    }

    async fn create(c: &Client, spec: &Spec) -> Result<String, AwsError> {
        let sent = c.create_key_group().key_group_config(config(spec)?).send().await;
        let out = sent.map_err(sdk("CreateKeyGroup"))?;
        Ok(need("CreateKeyGroup", "KeyGroup.Id", out.key_group())?
            .id()
            .to_string())
    }

    async fn put(c: &Client, id: &str, etag: &str, spec: &Spec) -> Result<Write, AwsError> {
        let call = c.update_key_group().id(id).if_match(etag);
        written(
            Self::UPDATE,
            &[],
            call.key_group_config(config(spec)?).send().await,
        )
    }

    async fn remove(c: &Client, id: &str, etag: &str) -> Result<Write, AwsError> {
        let sent = c.delete_key_group().id(id).if_match(etag).send().await;
        written(Self::DELETE, &[Self::GONE], sent)
    }
}
