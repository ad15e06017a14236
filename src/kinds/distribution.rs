//! The CloudFront distribution (`cloudfront-distribution`): its whole
//! config (see `resources::distribution::spec`), the origin secret by ARN
//! and version (the value goes into the request only), and tags. Every
//! write presents the current ETag and re-reads after a stale one. `up`
//! waits until it is Deployed; its delete is disable -> Deployed -> delete.

use aws_sdk_cloudfront::types::{DistributionConfigWithTags, Tag, TagKeys, Tags as CfTags};
use serde::{Deserialize, Serialize};

use super::{Tags, has, json, owned, user_tags};
use crate::aws::{AwsError, sdk};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Output, Resource, Typical};
use crate::engine::polls::{retrying, wait_for};
use crate::engine::step::{Cx, Step, StepError};
use crate::engine::wait::Check;
use crate::resources::distribution::{self as dist, DistributionSpec, Live};
use crate::resources::origin_secret::SecretValue;
use crate::resources::sync_tags;
use crate::resources::{Etagged, Write, converge};

pub struct Distribution;

/// The distribution's `*.cloudfront.net` name.
pub const DOMAIN_NAME: Output = Output("domain_name");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    #[serde(flatten)]
    pub config: DistributionSpec,
    /// The origin header value's secret, when an origin sends it.
    pub origin_secret_arn: Option<String>,
    pub tags: Tags,
}

fn build(e: aws_sdk_cloudfront::error::BuildError) -> AwsError {
    AwsError {
        operation: "DistributionConfig",
        code: None,
        message: e.to_string(),
    }
}

fn cf_tags(tags: &Tags) -> Result<CfTags, AwsError> {
    Ok(CfTags::builder()
        .set_items(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect::<Result<_, _>>()
                .map_err(build)?,
        ))
        .build())
}

/// What the live config amounts to, the secret compared, never kept; lists
/// CloudFront treats as sets in the spec's order when they hold the same
/// members (CloudFront may answer them in any order).
fn view(live: &Live, spec: &Spec, secret: Option<&str>) -> DistributionSpec {
    let (mut view, live_secret) =
        DistributionSpec::from_config(&live.config, spec.config.origin_secret_version.as_deref());
    view.follow_sets(&spec.config);
    if secret.is_some() && live_secret.as_deref() != secret {
        view.origin_secret_version = Some(super::listener_rule::DIFFERS.into());
    }
    view
}

/// The origin header value, when the spec's origins send it: the version
/// the spec names (a rotation moves the distribution to a new one).
async fn secret(cx: &Cx, spec: &Spec) -> Step<Option<SecretValue>> {
    match (&spec.origin_secret_arn, &spec.config.origin_secret_version) {
        (Some(arn), Some(version)) => Ok(Some(cx.secret_version(arn, version).await?)),
        (Some(arn), None) => Ok(Some(cx.secret(arn).await?.clone())),
        _ => Ok(None),
    }
}

impl Resource for Distribution {
    type Spec = Spec;

    const NAME: &'static str = "cloudfront-distribution";

    fn deploy_note(&self, _action: &str) -> Option<&'static str> {
        Some("distribution deploy (minutes)")
    }

    const TYPICAL: Typical = Typical {
        create: 5,
        update: 3,
        delete: 266,
        ready: 266,
    };

    const REPLACE: &'static [&'static str] = &["caller_reference"];

    const TOKEN: Option<&'static str> = Some("caller_reference");

    /// Terraform's default too: deploys once took 15-35 minutes.
    const READY_MINUTES: u64 = 90;

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        // A migrated entry has no spec: it is found by id, compared with nothing.
        let spec = at.spec().ok();
        let cf = cx.clients.cloudfront();
        let mut live = match at.recorded() {
            Some(id) => dist::get(&cf, id).await?,
            None => None,
        };
        if live.is_none()
            && at.recorded().is_none()
            && let Some(spec) = &spec
        {
            live = dist::find(&cf, &spec.config.comment, &spec.config.caller_reference).await?;
        }
        let Some(live) = live else {
            return Ok(None);
        };
        let tagged = cf
            .list_tags_for_resource()
            .resource(&live.arn)
            .send()
            .await
            .map_err(sdk("ListTagsForResource"))?;
        let tags = user_tags(
            tagged
                .tags()
                .map(|t| t.items().to_vec())
                .unwrap_or_default()
                .into_iter()
                .map(|x| (x.key().to_string(), x.value().unwrap_or_default().to_string())),
        );
        let view = match &spec {
            Some(spec) => {
                let secret = secret(cx, spec).await?;
                json(&Spec {
                    config: view(&live, spec, secret.as_ref().map(SecretValue::expose)),
                    origin_secret_arn: spec.origin_secret_arn.clone(),
                    tags: tags.clone(),
                })
            }
            None => serde_json::Value::Null,
        };
        Ok(Some(
            Found::new(&live.id, view, owned(&tags, cx.stack()))
                .arn(&live.arn)
                .out(DOMAIN_NAME, &live.domain_name)
                .detail(&live.status),
        ))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let secret = secret(cx, spec).await?;
        let secret = secret.as_ref().map(SecretValue::expose);
        let created = cx
            .clients
            .cloudfront()
            .create_distribution_with_tags()
            .distribution_config_with_tags(
                DistributionConfigWithTags::builder()
                    .distribution_config(spec.config.to_config(secret)?)
                    .tags(cf_tags(&spec.tags)?)
                    .build(),
            )
            .send()
            .await
            .map_err(sdk("CreateDistributionWithTags"))?;
        let d = created
            .distribution()
            .ok_or_else(|| AwsError::missing("CreateDistributionWithTags", "Distribution"))?;
        Ok(Found::new(d.id(), spec, true)
            .arn(d.arn())
            .out(DOMAIN_NAME, d.domain_name())
            .detail(d.status()))
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let cf = cx.clients.cloudfront();
        let arn = live.arn_for("UpdateDistribution")?.to_string();
        if fields.iter().any(|f| f != "tags") {
            let secret = secret(cx, spec).await?;
            let secret = secret.as_ref().map(SecretValue::expose);
            let config = spec.config.to_config(secret)?;
            let wrap = |l: Live| Etagged {
                id: l.id.clone(),
                etag: l.etag.clone(),
                spec: view(&l, spec, secret),
            };
            let current = dist::get(&cf, &live.physical_id)
                .await?
                .ok_or_else(|| StepError::Vanished(format!("distribution {} vanished", live.physical_id)))?;
            let update = async |cur: &Etagged<DistributionSpec>| match cf
                .update_distribution()
                .id(&cur.id)
                .if_match(&cur.etag)
                .distribution_config(config.clone())
                .send()
                .await
            {
                Ok(_) => Ok(Write::Done),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_precondition_failed()) => {
                    Ok(Write::Stale)
                }
                Err(e) => Err(AwsError::from_sdk("UpdateDistribution", e)),
            };
            converge(
                wrap(current),
                &spec.config,
                "UpdateDistribution",
                async |id: &str| Ok(dist::get(&cf, id).await?.map(&wrap)),
                update,
            )
            .await?;
        }
        if has(fields, "tags") {
            let set = async |set: Tags| {
                let call = cf.tag_resource().resource(&arn).tags(cf_tags(&set)?);
                call.send().await.map(drop).map_err(sdk("TagResource"))
            };
            let remove = async |keys| {
                let keys = TagKeys::builder().set_items(Some(keys)).build();
                let call = cf.untag_resource().resource(&arn).tag_keys(keys);
                call.send().await.map(drop).map_err(sdk("UntagResource"))
            };
            sync_tags(&spec.tags, &live.tags()?, set, remove).await?;
        }
        Ok(live.applied(spec))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        let cf = cx.clients.cloudfront();
        let id = &live.physical_id;
        // Disabling also drops the Lambda@Edge and function associations,
        // so CloudFront can start removing the replicas.
        dist::disable(&cf, id).await?;
        wait_for(
            cx,
            at.id,
            format!("distribution {id} to deploy its disabled config"),
            90,
            async || {
                Ok(dist::get(&cf, id)
                    .await?
                    .filter(|l| l.status != "Deployed")
                    .map(|l| format!("disabling: {}", l.status)))
            },
        )
        .await?;
        // It can still say DistributionNotDisabled right after Deployed.
        retrying(&["DistributionNotDisabled"], 5, async || {
            dist::delete(&cf, id).await
        })
        .await?;
        Ok(Gone::Deleted)
    }

    async fn ready(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Check<()>> {
        let id = at.recorded().unwrap_or_default();
        Ok(match dist::get(&cx.clients.cloudfront(), id).await? {
            Some(l) if l.status == "Deployed" => Check::Done(()),
            Some(l) => Check::Pending(l.status),
            None => Check::Pending("not listed yet".into()),
        })
    }
}
