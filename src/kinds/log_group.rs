//! The proxy's CloudWatch log group (`logs-log-group`): retention and tags.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{Tags, has, owned, user_tags};
use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Resource};
use crate::engine::step::{Cx, Step};
use crate::resources::sync_tags;

pub struct LogGroup;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub retention_days: i32,
    pub tags: Tags,
}

impl Resource for LogGroup {
    type Spec = Spec;

    const NAME: &'static str = "logs-log-group";

    const REPLACE: &'static [&'static str] = &["name"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let Some(name) = at.recorded_or("name") else {
            return Ok(None);
        };
        let logs = cx.clients.logs(at.region);
        let out = logs
            .describe_log_groups()
            .log_group_name_prefix(&name)
            .send()
            .await
            .map_err(sdk("DescribeLogGroups"))?;
        let Some(group) = out
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name.as_str()))
        else {
            return Ok(None);
        };
        let arn = group
            .arn()
            .ok_or_else(|| AwsError::missing("DescribeLogGroups", "arn"))?;
        let arn = arn.strip_suffix(":*").unwrap_or(arn).to_string();
        let tagged = logs
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(sdk("ListTagsForResource"))?;
        let tags = user_tags(tagged.tags().cloned().unwrap_or_default());
        let live = serde_json::json!({
            "name": name,
            "retention_days": group.retention_in_days(),
            "tags": tags,
        });
        Ok(Some(Found::new(&name, live, owned(&tags, cx.stack())).arn(arn)))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let tags: HashMap<String, String> = spec.tags.clone().into_iter().collect();
        cx.clients
            .logs(at.region)
            .create_log_group()
            .log_group_name(&spec.name)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(sdk("CreateLogGroup"))?;
        let created = self
            .find(cx, at)
            .await?
            .ok_or_else(|| AwsError::missing("DescribeLogGroups", &format!("log group {}", spec.name)))?;
        self.update(cx, at, &created, &["retention_days".to_string()])
            .await
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let logs = cx.clients.logs(at.region);
        if has(fields, "retention_days") {
            logs.put_retention_policy()
                .log_group_name(&spec.name)
                .retention_in_days(spec.retention_days)
                .send()
                .await
                .map_err(sdk("PutRetentionPolicy"))?;
        }
        if has(fields, "tags") {
            let arn = live.arn_for("TagResource")?.to_string();
            let set = async |set: Tags| {
                let call = logs
                    .tag_resource()
                    .resource_arn(&arn)
                    .set_tags(Some(set.into_iter().collect()));
                call.send().await.map(drop).map_err(sdk("TagResource"))
            };
            let remove = async |keys| {
                let call = logs.untag_resource().resource_arn(&arn).set_tag_keys(Some(keys));
                call.send().await.map(drop).map_err(sdk("UntagResource"))
            };
            sync_tags(&spec.tags, &live.tags()?, set, remove).await?;
        }
        Ok(live.applied(spec))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        unless(
            &["ResourceNotFoundException"],
            cx.clients
                .logs(at.region)
                .delete_log_group()
                .log_group_name(&live.physical_id)
                .send()
                .await
                .map_err(sdk("DeleteLogGroup")),
        )?;
        Ok(Gone::Deleted)
    }
}
