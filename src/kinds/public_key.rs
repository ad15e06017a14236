//! A signer's public key (`cloudfront-public-key`). CloudFront keeps public
//! keys immutable but for the comment, so a key's content is its identity:
//! the CallerReference and the name carry the PEM's digest, a changed PEM is
//! a new key (and a new instance), and rotation is create, add to the
//! group, drop from the group, delete. The id CloudFront gives is the
//! `Key-Pair-Id` signed URLs carry. The lifecycle is `cloudfront_policy`'s
//! (no tags: the comment carries the stack marker); this module is its API.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::PublicKeyConfig;
use serde::{Deserialize, Serialize};

use super::cloudfront_policy::{EtagApi, Page, Policy, etagged, got, need, page_of};
use crate::aws::{AwsError, sdk};
use crate::engine::kind::Typed;
use crate::resources::{Etagged, Write, written};

pub struct Api;

pub const PUBLIC_KEY: Typed<Policy<Api>> = Typed(Policy(std::marker::PhantomData));

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

impl EtagApi for Api {
    type Spec = Spec;
    const KIND: &'static str = "cloudfront-public-key";
    const GONE: &'static str = "NoSuchPublicKey";
    /// In use until its key group no longer lists it.
    const IN_USE: &'static str = "PublicKeyInUse";
    const UPDATE: &'static str = "UpdatePublicKey";
    const DELETE: &'static str = "DeletePublicKey";
    /// Only the comment can change in place.
    const REPLACE: &'static [&'static str] = &["name", "caller_reference", "encoded_key"];
    const TOKEN: Option<&'static str> = Some("caller_reference");

    fn deploy_note(action: &str) -> Option<&'static str> {
        (action == "create").then_some("new public key (seconds, no distribution deploy)")
    }

    fn comment(spec: &Spec) -> &str {
        &spec.comment
    }

    async fn get(c: &Client, id: &str) -> Result<Option<Etagged<Spec>>, AwsError> {
        const OP: &str = "GetPublicKey";
        let Some(out) = got(OP, Self::GONE, c.get_public_key().id(id).send().await)? else {
            return Ok(None);
        };
        let key = need(OP, "PublicKey", out.public_key())?;
        let config = need(OP, "PublicKeyConfig", key.public_key_config())?;
        let spec = Spec {
            name: config.name().to_string(),
            caller_reference: config.caller_reference().to_string(),
            encoded_key: config.encoded_key().to_string(),
            comment: config.comment().unwrap_or_default().to_string(),
        };
        etagged(OP, id, out.e_tag(), spec)
    }

    async fn page(c: &Client, marker: Option<String>) -> Result<Page, AwsError> {
        let sent = c.list_public_keys().set_marker(marker).send().await;
        let out = sent.map_err(sdk("ListPublicKeys"))?;
        let list = out.public_key_list();
        let items = list.map(|l| l.items()).unwrap_or_default();
        let named = items.iter().map(|k| (k.id().to_string(), k.name().to_string()));
        Ok(page_of(named, list.and_then(|l| l.next_marker())))
    }

    async fn create(c: &Client, spec: &Spec) -> Result<String, AwsError> {
        let sent = c
            .create_public_key()
            .public_key_config(config(spec)?)
            .send()
            .await;
        let out = sent.map_err(sdk("CreatePublicKey"))?;
        Ok(need("CreatePublicKey", "PublicKey.Id", out.public_key())?
            .id()
            .to_string())
    }

    async fn put(c: &Client, id: &str, etag: &str, spec: &Spec) -> Result<Write, AwsError> {
        let call = c.update_public_key().id(id).if_match(etag);
        written(
            Self::UPDATE,
            &[],
            call.public_key_config(config(spec)?).send().await,
        )
    }

    async fn remove(c: &Client, id: &str, etag: &str) -> Result<Write, AwsError> {
        let sent = c.delete_public_key().id(id).if_match(etag).send().await;
        written(Self::DELETE, &[Self::GONE], sent)
    }
}
