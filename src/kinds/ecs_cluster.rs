//! The ECS cluster (`ecs-cluster`): a name and tags. Found by name while ACTIVE.

use aws_sdk_ecs::types::{Cluster, ClusterField};
use serde::{Deserialize, Serialize};

use super::{Tags, owned, user_tags};
use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Resource};
use crate::engine::polls::retrying;
use crate::engine::step::{Cx, Step};
use crate::resources::proxy::{ecs_tags, sync_tags, tag_map};

pub struct EcsCluster;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub tags: Tags,
}

pub async fn active(ecs: &aws_sdk_ecs::Client, name: &str) -> Result<Option<Cluster>, AwsError> {
    let out = ecs
        .describe_clusters()
        .clusters(name)
        .include(ClusterField::Tags)
        .send()
        .await
        .map_err(sdk("DescribeClusters"))?;
    Ok(out
        .clusters()
        .iter()
        .find(|c| c.status() == Some("ACTIVE"))
        .cloned())
}

impl Resource for EcsCluster {
    type Spec = Spec;

    const NAME: &'static str = "ecs-cluster";

    const REPLACE: &'static [&'static str] = &["name"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let Some(name) = at.recorded_or("name") else {
            return Ok(None);
        };
        let Some(cluster) = active(&cx.clients.ecs(at.region), &name).await? else {
            return Ok(None);
        };
        let arn = cluster
            .cluster_arn()
            .ok_or_else(|| AwsError::missing("DescribeClusters", "clusterArn"))?;
        let tags = user_tags(tag_map(cluster.tags()));
        let live = Spec {
            name: cluster.cluster_name().unwrap_or_default().to_string(),
            tags: tags.clone(),
        };
        Ok(Some(Found::new(&name, &live, owned(&tags, cx.stack())).arn(arn)))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let out = cx
            .clients
            .ecs(at.region)
            .create_cluster()
            .cluster_name(&spec.name)
            .set_tags(Some(ecs_tags(&spec.tags)))
            .send()
            .await
            .map_err(sdk("CreateCluster"))?;
        let arn = out
            .cluster()
            .and_then(|c| c.cluster_arn())
            .ok_or_else(|| AwsError::missing("CreateCluster", "cluster.clusterArn"))?;
        Ok(Found::new(&spec.name, spec, true).arn(arn))
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let was: Spec = live.view()?;
        let arn = live.arn_for("TagResource")?.to_string();
        sync_tags(&cx.clients.ecs(at.region), &arn, &spec.tags, &was.tags).await?;
        Ok(live.applied(spec))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        let ecs = cx.clients.ecs(at.region);
        retrying(
            &[
                "ClusterContainsServicesException",
                "ClusterContainsTasksException",
            ],
            10,
            async || {
                unless(
                    &["ClusterNotFoundException"],
                    ecs.delete_cluster()
                        .cluster(&live.physical_id)
                        .send()
                        .await
                        .map_err(sdk("DeleteCluster")),
                )
                .map(|_| ())
            },
        )
        .await?;
        Ok(Gone::Deleted)
    }
}
