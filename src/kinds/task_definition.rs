//! The proxy's Fargate task definition (`ecs-task-definition`): what the
//! proxy runs and with which settings. Revisions are immutable: a change
//! registers a new one (the service then rolls over to it, and once it is
//! steady the older revisions are deregistered).
//!
//! The resource is the family. It is ours when its newest revision carries
//! our tags, or when the lockfile records that we made the family: then a
//! newest revision registered by hand (untagged, another image) is drift,
//! and `up` registers the spec's revision on top of it.

use aws_sdk_ecs::types::{TaskDefinitionField, TaskDefinitionStatus};
use serde::{Deserialize, Serialize};

use super::{Tags, owned, user_tags};
use crate::aws::{AwsError, sdk};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Phase, Resource};
use crate::engine::step::{Cx, Step};
use crate::resources::proxy::{TaskSpec, deregister_family, register_task_definition, tag_map};

pub struct TaskDefinition;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    #[serde(flatten)]
    pub task: TaskSpec,
    pub tags: Tags,
}

impl Resource for TaskDefinition {
    type Spec = Spec;

    const NAME: &'static str = "ecs-task-definition";

    const UPDATE_CHANGES_OUTPUTS: bool = true;

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let Some(family) = at.recorded_or("family") else {
            return Ok(None);
        };
        let ecs = cx.clients.ecs(at.region);
        if at.is(Phase::Deleting) {
            // A killed `down` may have deregistered every revision but not
            // deleted them: they stay listed INACTIVE until deleted.
            let inactive = ecs
                .list_task_definitions()
                .family_prefix(&family)
                .status(TaskDefinitionStatus::Inactive)
                .send()
                .await
                .map_err(sdk("ListTaskDefinitions"))?;
            let left = inactive.task_definition_arns().iter().any(|a| {
                a.rsplit_once('/')
                    .and_then(|(_, r)| r.rsplit_once(':'))
                    .map(|(f, _)| f)
                    == Some(&family)
            });
            if left {
                return Ok(Some(
                    Found::new(&family, serde_json::Value::Null, true).detail("inactive"),
                ));
            }
        }
        let out = match ecs
            .describe_task_definition()
            .task_definition(&family)
            .include(TaskDefinitionField::Tags)
            .send()
            .await
            .map_err(sdk("DescribeTaskDefinition"))
        {
            Ok(out) => out,
            // ECS answers an unknown family with a ClientException.
            Err(e) if e.is("ClientException") => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(td) = out
            .task_definition()
            .filter(|td| td.status() == Some(&TaskDefinitionStatus::Active))
        else {
            return Ok(None);
        };
        let arn = td
            .task_definition_arn()
            .ok_or_else(|| AwsError::missing("DescribeTaskDefinition", "taskDefinitionArn"))?;
        let task = TaskSpec::from_live(td)
            .ok_or_else(|| AwsError::missing("DescribeTaskDefinition", "containerDefinitions[proxy]"))?;
        let tags = user_tags(tag_map(out.tags()));
        let live = Spec {
            task,
            tags: tags.clone(),
        };
        let revision = arn.rsplit('/').next().unwrap_or_default().to_string();
        let recorded = at.recorded() == Some(family.as_str());
        Ok(Some(
            Found::new(&family, &live, recorded || owned(&tags, cx.stack()))
                .arn(arn)
                .detail(revision),
        ))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let arn = register_task_definition(&cx.clients.ecs(at.region), &spec.task, &spec.tags).await?;
        Ok(Found::new(&spec.task.family, spec, true).arn(arn))
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, _live: &Found, _fields: &[String]) -> Step<Found> {
        self.create(cx, at).await
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        deregister_family(&cx.clients.ecs(at.region), &live.physical_id, None).await?;
        Ok(Gone::Deleted)
    }
}
