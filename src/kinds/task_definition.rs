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

use super::{Tags, json, owned, user_tags};
use crate::aws::{AwsError, sdk};
use crate::lockfile::State;
use crate::resources::proxy::{TaskSpec, deregister_family, register_task_definition, tag_map};
use crate::stack::Ctx;
use crate::stack::kind::{At, Found, Fut, Gone, Kind};
use crate::stack::teardown::Options;

pub struct TaskDefinition;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    #[serde(flatten)]
    pub task: TaskSpec,
    pub tags: Tags,
}

impl Kind for TaskDefinition {
    fn name(&self) -> &'static str {
        "ecs-task-definition"
    }

    fn update_changes_outputs(&self) -> bool {
        true
    }

    fn find<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Option<Found>> {
        Box::pin(async move {
            let Some(family) = at.recorded().map(str::to_string).or_else(|| at.field("family")) else {
                return Ok(None);
            };
            let ecs = cx.clients.ecs(at.region);
            if at.entry.is_some_and(|e| e.state == State::Deleting) {
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
            let recorded = at
                .entry
                .is_some_and(|e| e.physical_id.as_deref() == Some(family.as_str()));
            Ok(Some(
                Found::new(&family, json(&live), recorded || owned(&tags, cx.stack()))
                    .arn(arn)
                    .detail(revision),
            ))
        })
    }

    fn create<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Found> {
        Box::pin(async move {
            let spec: Spec = at.spec()?;
            let arn = register_task_definition(&cx.clients.ecs(at.region), &spec.task, &spec.tags).await?;
            Ok(Found::new(&spec.task.family, json(&spec), true).arn(arn))
        })
    }

    fn update<'a>(
        &'a self,
        cx: &'a Ctx,
        at: &'a At<'a>,
        _live: &'a Found,
        _fields: &'a [String],
    ) -> Fut<'a, Found> {
        self.create(cx, at)
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Ctx,
        at: &'a At<'a>,
        live: &'a Found,
        _opts: &'a Options,
    ) -> Fut<'a, Gone> {
        Box::pin(async move {
            deregister_family(&cx.clients.ecs(at.region), &live.physical_id, None).await?;
            Ok(Gone::Deleted)
        })
    }
}
