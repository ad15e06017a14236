//! The stack's Origin Access Control (`cloudfront-origin-access-control`):
//! CloudFront signs its requests to the private buckets (SigV4, always),
//! and each bucket's grant (`s3-bucket-grant`) lets exactly this
//! distribution read. The lifecycle is `cloudfront_policy`'s (no tags: the
//! description carries the stack marker); this module is its API.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::{
    OriginAccessControlConfig, OriginAccessControlOriginTypes, OriginAccessControlSigningBehaviors,
    OriginAccessControlSigningProtocols,
};
use serde::{Deserialize, Serialize};

use super::cloudfront_policy::{EtagApi, Page, Policy, etagged, got, need, page_of};
use crate::aws::{AwsError, sdk};
use crate::engine::kind::Typed;
use crate::resources::{Etagged, Write, written};

pub struct Api;

pub const ORIGIN_ACCESS_CONTROL: Typed<Policy<Api>> = Typed(Policy(std::marker::PhantomData));

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub description: String,
    pub origin_type: String,
    pub signing_behavior: String,
    pub signing_protocol: String,
}

impl Spec {
    pub fn for_stack(stack: &str) -> Self {
        Spec {
            name: format!("{stack}-s3"),
            description: format!("ahi-edge stack {stack}: CloudFront reads the stack's private buckets"),
            origin_type: "s3".into(),
            signing_behavior: "always".into(),
            signing_protocol: "sigv4".into(),
        }
    }

    fn config(&self) -> Result<OriginAccessControlConfig, AwsError> {
        OriginAccessControlConfig::builder()
            .name(&self.name)
            .description(&self.description)
            .origin_access_control_origin_type(OriginAccessControlOriginTypes::from(
                self.origin_type.as_str(),
            ))
            .signing_behavior(OriginAccessControlSigningBehaviors::from(
                self.signing_behavior.as_str(),
            ))
            .signing_protocol(OriginAccessControlSigningProtocols::from(
                self.signing_protocol.as_str(),
            ))
            .build()
            .map_err(|e| AwsError {
                operation: "OriginAccessControlConfig",
                code: None,
                message: e.to_string(),
            })
    }
}

impl EtagApi for Api {
    type Spec = Spec;
    const KIND: &'static str = "cloudfront-origin-access-control";
    const GONE: &'static str = "NoSuchOriginAccessControl";
    const IN_USE: &'static str = "OriginAccessControlInUse";
    const UPDATE: &'static str = "UpdateOriginAccessControl";
    const DELETE: &'static str = "DeleteOriginAccessControl";

    fn comment(spec: &Spec) -> &str {
        &spec.description
    }

    async fn get(c: &Client, id: &str) -> Result<Option<Etagged<Spec>>, AwsError> {
        const OP: &str = "GetOriginAccessControl";
        let Some(out) = got(OP, Self::GONE, c.get_origin_access_control().id(id).send().await)? else {
            return Ok(None);
        };
        let oac = need(OP, "OriginAccessControl", out.origin_access_control())?;
        let config = need(
            OP,
            "OriginAccessControlConfig",
            oac.origin_access_control_config(),
        )?;
        let spec = Spec {
            name: config.name().to_string(),
            description: config.description().unwrap_or_default().to_string(),
            origin_type: config.origin_access_control_origin_type().as_str().to_string(),
            signing_behavior: config.signing_behavior().as_str().to_string(),
            signing_protocol: config.signing_protocol().as_str().to_string(),
        };
        etagged(OP, id, out.e_tag(), spec)
    }

    async fn page(c: &Client, marker: Option<String>) -> Result<Page, AwsError> {
        let sent = c.list_origin_access_controls().set_marker(marker).send().await;
        let out = sent.map_err(sdk("ListOriginAccessControls"))?;
        let list = out.origin_access_control_list();
        let items = list.map(|l| l.items()).unwrap_or_default();
        let named = items.iter().map(|s| (s.id().to_string(), s.name().to_string()));
        Ok(page_of(
            named,
            list.filter(|l| l.is_truncated()).and_then(|l| l.next_marker()),
        ))
    }

    async fn create(c: &Client, spec: &Spec) -> Result<String, AwsError> {
        const OP: &str = "CreateOriginAccessControl";
        let sent = c
            .create_origin_access_control()
            .origin_access_control_config(spec.config()?)
            .send()
            .await;
        let out = sent.map_err(sdk(OP))?;
        Ok(need(OP, "OriginAccessControl.Id", out.origin_access_control())?
            .id()
            .to_string())
    }

    async fn put(c: &Client, id: &str, etag: &str, spec: &Spec) -> Result<Write, AwsError> {
        let call = c.update_origin_access_control().id(id).if_match(etag);
        written(
            Self::UPDATE,
            &[],
            call.origin_access_control_config(spec.config()?).send().await,
        )
    }

    async fn remove(c: &Client, id: &str, etag: &str) -> Result<Write, AwsError> {
        let sent = c
            .delete_origin_access_control()
            .id(id)
            .if_match(etag)
            .send()
            .await;
        written(Self::DELETE, &[Self::GONE], sent)
    }
}
