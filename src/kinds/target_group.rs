//! The proxy's target group (`elbv2-target-group`): ip targets over HTTP on
//! the proxy port, its health check, tags. Found by name.

use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetGroup, TargetTypeEnum};
use serde::{Deserialize, Serialize};

use super::{Tags, has, owned, user_tags};
use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Resource};
use crate::engine::polls::retrying;
use crate::engine::step::{Cx, Step};
use crate::resources::load_balancer::{sync_tags, tags, tags_of};

pub struct TargetGroupKind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub protocol: String,
    pub port: i32,
    pub vpc: String,
    pub target_type: String,
    pub health_check_protocol: String,
    pub health_check_path: String,
    pub deregistration_delay_s: i64,
    pub tags: Tags,
}

const DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";

async fn deregistration_delay(cx: &Cx, at: &At<'_, Spec>, arn: &str) -> Result<i64, AwsError> {
    let out = cx
        .clients
        .elb(at.region)
        .describe_target_group_attributes()
        .target_group_arn(arn)
        .send()
        .await
        .map_err(sdk("DescribeTargetGroupAttributes"))?;
    Ok(out
        .attributes()
        .iter()
        .find(|a| a.key() == Some(DEREGISTRATION_DELAY))
        .and_then(|a| a.value()?.parse().ok())
        .unwrap_or(-1))
}

async fn set_deregistration_delay(
    cx: &Cx,
    at: &At<'_, Spec>,
    arn: &str,
    seconds: i64,
) -> Result<(), AwsError> {
    cx.clients
        .elb(at.region)
        .modify_target_group_attributes()
        .target_group_arn(arn)
        .attributes(
            aws_sdk_elasticloadbalancingv2::types::TargetGroupAttribute::builder()
                .key(DEREGISTRATION_DELAY)
                .value(seconds.to_string())
                .build(),
        )
        .send()
        .await
        .map_err(sdk("ModifyTargetGroupAttributes"))?;
    Ok(())
}

const NOT_FOUND: &[&str] = &["TargetGroupNotFound"];

async fn describe(cx: &Cx, at: &At<'_, Spec>) -> Result<Option<TargetGroup>, AwsError> {
    let elb = cx.clients.elb(at.region);
    let call = elb.describe_target_groups();
    let call = match (at.recorded_arn(), at.field("name")) {
        (Some(arn), _) => call.target_group_arns(arn),
        (None, Some(name)) => call.names(name),
        (None, None) => return Ok(None),
    };
    let out = unless(NOT_FOUND, call.send().await.map_err(sdk("DescribeTargetGroups")))?;
    Ok(out.and_then(|o| o.target_groups().first().cloned()))
}

impl Resource for TargetGroupKind {
    type Spec = Spec;

    const NAME: &'static str = "elbv2-target-group";

    const REPLACE: &'static [&'static str] = &["name", "protocol", "port", "vpc", "target_type"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let Some(tg) = describe(cx, at).await? else {
            return Ok(None);
        };
        let arn = tg
            .target_group_arn()
            .ok_or_else(|| AwsError::missing("DescribeTargetGroups", "TargetGroupArn"))?;
        let tags = user_tags(tags_of(&cx.clients.elb(at.region), arn).await?);
        let live = Spec {
            name: tg.target_group_name().unwrap_or_default().to_string(),
            protocol: tg.protocol().map(|p| p.as_str().to_string()).unwrap_or_default(),
            port: tg.port().unwrap_or_default(),
            vpc: tg.vpc_id().unwrap_or_default().to_string(),
            target_type: tg
                .target_type()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            health_check_protocol: tg
                .health_check_protocol()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            health_check_path: tg.health_check_path().unwrap_or_default().to_string(),
            deregistration_delay_s: deregistration_delay(cx, at, arn).await?,
            tags: tags.clone(),
        };
        Ok(Some(
            Found::new(&live.name, &live, owned(&tags, cx.stack())).arn(arn),
        ))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let out = cx
            .clients
            .elb(at.region)
            .create_target_group()
            .name(&spec.name)
            .protocol(ProtocolEnum::from(spec.protocol.as_str()))
            .port(spec.port)
            .vpc_id(&spec.vpc)
            .target_type(TargetTypeEnum::from(spec.target_type.as_str()))
            .health_check_protocol(ProtocolEnum::from(spec.health_check_protocol.as_str()))
            .health_check_path(&spec.health_check_path)
            .set_tags(Some(tags(&spec.tags)))
            .send()
            .await
            .map_err(sdk("CreateTargetGroup"))?;
        let arn = out
            .target_groups()
            .first()
            .and_then(|t| t.target_group_arn())
            .ok_or_else(|| AwsError::missing("CreateTargetGroup", "TargetGroups.TargetGroupArn"))?;
        set_deregistration_delay(cx, at, arn, spec.deregistration_delay_s).await?;
        Ok(Found::new(&spec.name, spec, true).arn(arn))
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let was: Spec = live.view()?;
        let elb = cx.clients.elb(at.region);
        let arn = live.arn_for("ModifyTargetGroup")?;
        if has(fields, "health_check_path") || has(fields, "health_check_protocol") {
            elb.modify_target_group()
                .target_group_arn(arn)
                .health_check_protocol(ProtocolEnum::from(spec.health_check_protocol.as_str()))
                .health_check_path(&spec.health_check_path)
                .send()
                .await
                .map_err(sdk("ModifyTargetGroup"))?;
        }
        if has(fields, "deregistration_delay_s") {
            set_deregistration_delay(cx, at, arn, spec.deregistration_delay_s).await?;
        }
        if has(fields, "tags") {
            sync_tags(&elb, arn, &spec.tags, &was.tags).await?;
        }
        Ok(live.applied(spec))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        let elb = cx.clients.elb(at.region);
        let arn = live.arn_for("DeleteTargetGroup")?.to_string();
        // In use until its listener rule and ALB are gone.
        retrying(&["ResourceInUse"], 10, async || {
            unless(
                NOT_FOUND,
                elb.delete_target_group()
                    .target_group_arn(&arn)
                    .send()
                    .await
                    .map_err(sdk("DeleteTargetGroup")),
            )
            .map(|_| ())
        })
        .await?;
        Ok(Gone::Deleted)
    }
}
