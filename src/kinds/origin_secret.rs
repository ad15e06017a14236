//! The CloudFront-to-ALB header value (`secretsmanager-secret`). The spec
//! and the lockfile hold its name, ARN and current version, never its
//! value: Secrets Manager generates it (letters and digits) and the two
//! kinds that send it read it by ARN. An existing secret keeps its value:
//! rotating it is a deliberate act, not a side effect of `up`.

use aws_sdk_secretsmanager::types::Tag;
use serde::{Deserialize, Serialize};

use super::{Tags, has, owned, user_tags};
use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Output, Resource};
use crate::engine::step::{Cx, Step};
use crate::engine::wait::{Backoff, Jitter, retry_when};
use crate::resources::origin_secret::LENGTH;
use crate::resources::sync_tags;

pub struct OriginSecret;

/// The secret version the stack uses.
pub const VERSION_ID: Output = Output("version_id");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub description: String,
    pub tags: Tags,
}

const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// 5 s growing to 30 s: a name scheduled for deletion frees within minutes.
fn pause() -> Backoff {
    Backoff {
        initial: std::time::Duration::from_secs(5),
        max: std::time::Duration::from_secs(30),
        factor: 1.5,
        jitter: 0.2,
    }
    .scaled()
}

impl Resource for OriginSecret {
    type Spec = Spec;

    const NAME: &'static str = "secretsmanager-secret";

    const REPLACE: &'static [&'static str] = &["name"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let Some(id) = at.recorded_arn().map(str::to_string).or_else(|| at.field("name")) else {
            return Ok(None);
        };
        let secrets = cx.clients.secrets(at.region);
        let Some(out) = unless(
            NOT_FOUND,
            secrets
                .describe_secret()
                .secret_id(&id)
                .send()
                .await
                .map_err(sdk("DescribeSecret")),
        )?
        else {
            return Ok(None);
        };
        if out.deleted_date().is_some() {
            return Ok(None);
        }
        let arn = out
            .arn()
            .ok_or_else(|| AwsError::missing("DescribeSecret", "ARN"))?;
        let name = out
            .name()
            .ok_or_else(|| AwsError::missing("DescribeSecret", "Name"))?;
        let version = out
            .version_ids_to_stages()
            .and_then(|m| {
                m.iter()
                    .find(|(_, stages)| stages.iter().any(|s| s == "AWSCURRENT"))
            })
            .map(|(v, _)| v.clone())
            .ok_or_else(|| AwsError::missing("DescribeSecret", "VersionIdsToStages[AWSCURRENT]"))?;
        let tags = user_tags(
            out.tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string()))),
        );
        let live = Spec {
            name: name.to_string(),
            description: out.description().unwrap_or_default().to_string(),
            tags: tags.clone(),
        };
        Ok(Some(
            Found::new(name, &live, owned(&tags, cx.stack()))
                .arn(arn)
                .out(VERSION_ID, version),
        ))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let secrets = cx.clients.secrets(at.region);
        let password = secrets
            .get_random_password()
            .password_length(LENGTH)
            .exclude_punctuation(true)
            .include_space(false)
            .send()
            .await
            .map_err(sdk("GetRandomPassword"))?;
        let value = password
            .random_password()
            .ok_or_else(|| AwsError::missing("GetRandomPassword", "RandomPassword"))?;
        // After a forced delete (a `down` moments ago) the name stays
        // taken for a while: "already scheduled for deletion".
        let scheduled =
            |e: &AwsError| e.is("InvalidRequestException") && e.message.contains("scheduled for deletion");
        let created = retry_when(10, &pause(), &mut Jitter::from_entropy(), scheduled, || async {
            secrets
                .create_secret()
                .name(&spec.name)
                .description(&spec.description)
                .secret_string(value)
                .set_tags(Some(
                    spec.tags
                        .iter()
                        .map(|(k, v)| Tag::builder().key(k).value(v).build())
                        .collect(),
                ))
                .send()
                .await
                .map_err(sdk("CreateSecret"))
        })
        .await?;
        let arn = created
            .arn()
            .ok_or_else(|| AwsError::missing("CreateSecret", "ARN"))?;
        let version = created
            .version_id()
            .ok_or_else(|| AwsError::missing("CreateSecret", "VersionId"))?;
        Ok(Found::new(&spec.name, spec, true)
            .arn(arn)
            .out(VERSION_ID, version))
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let was: Spec = live.view()?;
        let secrets = cx.clients.secrets(at.region);
        let arn = live.arn_for("UpdateSecret")?.to_string();
        if has(fields, "description") {
            secrets
                .update_secret()
                .secret_id(&arn)
                .description(&spec.description)
                .send()
                .await
                .map_err(sdk("UpdateSecret"))?;
        }
        if has(fields, "tags") {
            let set = async |set: Tags| {
                let tags = set.iter().map(|(k, v)| Tag::builder().key(k).value(v).build());
                let call = secrets
                    .tag_resource()
                    .secret_id(&arn)
                    .set_tags(Some(tags.collect()));
                call.send().await.map(drop).map_err(sdk("TagResource"))
            };
            let remove = async |keys| {
                let call = secrets.untag_resource().secret_id(&arn).set_tag_keys(Some(keys));
                call.send().await.map(drop).map_err(sdk("UntagResource"))
            };
            sync_tags(&spec.tags, &was.tags, set, remove).await?;
        }
        Ok(live.applied(spec))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        // No recovery window, so the stack can be created again under the same name.
        unless(
            NOT_FOUND,
            cx.clients
                .secrets(at.region)
                .delete_secret()
                .secret_id(live.arn.as_deref().unwrap_or(&live.physical_id))
                .force_delete_without_recovery(true)
                .send()
                .await
                .map_err(sdk("DeleteSecret")),
        )?;
        Ok(Gone::Deleted)
    }
}
