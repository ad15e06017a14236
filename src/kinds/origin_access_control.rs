//! The stack's Origin Access Control (`cloudfront-origin-access-control`):
//! CloudFront signs its requests to the private buckets (SigV4, always),
//! and each bucket's grant (`s3-bucket-grant`) lets exactly this
//! distribution read. No tags: ours carry `ahi-edge stack <name>:` at the
//! start of their description; names are unique per account. Every write
//! presents the current ETag.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::{
    OriginAccessControlConfig, OriginAccessControlOriginTypes, OriginAccessControlSigningBehaviors,
    OriginAccessControlSigningProtocols,
};
use serde::{Deserialize, Serialize};

use super::cloudfront_policy::marked;
use super::json;
use crate::aws::{AwsError, sdk, unless};
use crate::stack::kind::{At, Found, Fut, Gone, Kind};
use crate::stack::teardown::{Options, retrying};
use crate::stack::{Ctx, StepError};

pub struct OriginAccessControl;

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

fn view(c: &OriginAccessControlConfig) -> Spec {
    Spec {
        name: c.name().to_string(),
        description: c.description().unwrap_or_default().to_string(),
        origin_type: c.origin_access_control_origin_type().as_str().to_string(),
        signing_behavior: c.signing_behavior().as_str().to_string(),
        signing_protocol: c.signing_protocol().as_str().to_string(),
    }
}

/// The OAC by id, with its ETag.
async fn get(c: &Client, id: &str) -> Result<Option<(Spec, String)>, AwsError> {
    let out = unless(
        &["NoSuchOriginAccessControl"],
        c.get_origin_access_control()
            .id(id)
            .send()
            .await
            .map_err(sdk("GetOriginAccessControl")),
    )?;
    Ok(out.and_then(|o| {
        let config = o.origin_access_control()?.origin_access_control_config()?;
        Some((view(config), o.e_tag()?.to_string()))
    }))
}

async fn find_by_name(c: &Client, name: &str) -> Result<Option<String>, AwsError> {
    let mut marker: Option<String> = None;
    loop {
        let out = c
            .list_origin_access_controls()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(sdk("ListOriginAccessControls"))?;
        let list = out.origin_access_control_list();
        if let Some(hit) = list
            .map(|l| l.items())
            .unwrap_or_default()
            .iter()
            .find(|s| s.name() == name)
        {
            return Ok(Some(hit.id().to_string()));
        }
        marker = list
            .filter(|l| l.is_truncated())
            .and_then(|l| l.next_marker())
            .map(str::to_string);
        if marker.is_none() {
            return Ok(None);
        }
    }
}

impl Kind for OriginAccessControl {
    fn name(&self) -> &'static str {
        "cloudfront-origin-access-control"
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
                let owned = marked(&spec.description, cx.stack());
                Found::new(id, json(&spec), owned)
            }))
        })
    }

    fn create<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Found> {
        Box::pin(async move {
            let spec: Spec = at.spec()?;
            let out = cx
                .clients
                .cloudfront()
                .create_origin_access_control()
                .origin_access_control_config(spec.config()?)
                .send()
                .await
                .map_err(sdk("CreateOriginAccessControl"))?;
            let id = out
                .origin_access_control()
                .map(|o| o.id().to_string())
                .ok_or_else(|| AwsError::missing("CreateOriginAccessControl", "Id"))?;
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
            let (_, etag) = get(&c, &live.physical_id).await?.ok_or_else(|| {
                StepError::Missing(format!("origin access control {} vanished", live.physical_id))
            })?;
            c.update_origin_access_control()
                .id(&live.physical_id)
                .if_match(etag)
                .origin_access_control_config(spec.config()?)
                .send()
                .await
                .map_err(sdk("UpdateOriginAccessControl"))?;
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
            let c = cx.clients.cloudfront();
            let id = &live.physical_id;
            // In use until the distribution that names it is updated or gone.
            retrying(
                &["OriginAccessControlInUse", "PreconditionFailed"],
                5,
                async || {
                    let Some((_, etag)) = get(&c, id).await? else {
                        return Ok(());
                    };
                    match c
                        .delete_origin_access_control()
                        .id(id)
                        .if_match(etag)
                        .send()
                        .await
                    {
                        Ok(_) => Ok(()),
                        Err(e)
                            if e.as_service_error()
                                .is_some_and(|s| s.is_no_such_origin_access_control()) =>
                        {
                            Ok(())
                        }
                        Err(e) => Err(AwsError::from_sdk("DeleteOriginAccessControl", e)),
                    }
                },
            )
            .await?;
            Ok(Gone::Deleted)
        })
    }
}
