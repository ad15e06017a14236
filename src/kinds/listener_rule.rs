//! The forwarding rule (`elbv2-listener-rule`): at its priority, it
//! forwards to the target group only requests carrying the origin header
//! with the secret's value. The spec names the secret by ARN and version;
//! the value is read from Secrets Manager, compared, never recorded (a live
//! value that differs shows as the version `(differs)`).

use aws_sdk_elasticloadbalancingv2::types::Rule;
use serde::{Deserialize, Serialize};

use super::json;
use crate::aws::{AwsError, sdk, unless};
use crate::resources::load_balancer::{forward, header_condition};
use crate::stack::Ctx;
use crate::stack::kind::{At, Found, Fut, Gone, Kind};
use crate::stack::teardown::Options;

pub struct ListenerRule;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretRef {
    pub arn: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub listener: String,
    pub priority: String,
    pub header: String,
    pub origin_secret: SecretRef,
    pub target_group: String,
}

pub const DIFFERS: &str = "(differs)";

impl Kind for ListenerRule {
    fn name(&self) -> &'static str {
        "elbv2-listener-rule"
    }

    fn replace_fields(&self) -> &'static [&'static str] {
        &["listener", "priority"]
    }

    fn find<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Option<Found>> {
        Box::pin(async move {
            // A migrated entry has no spec: it is found by ARN, compared with nothing.
            let spec: Option<Spec> = at.spec().ok();
            let elb = cx.clients.elb(at.region);
            let call = match (at.recorded_arn(), &spec) {
                (Some(arn), _) => elb.describe_rules().rule_arns(arn),
                (None, Some(spec)) => elb.describe_rules().listener_arn(&spec.listener),
                (None, None) => return Ok(None),
            };
            let out = unless(
                &["RuleNotFound", "ListenerNotFound", "LoadBalancerNotFound"],
                call.send().await.map_err(sdk("DescribeRules")),
            )?;
            let Some(rule): Option<Rule> = out.and_then(|o| {
                o.rules()
                    .iter()
                    .find(|r| {
                        at.recorded_arn().is_some()
                            || spec
                                .as_ref()
                                .is_some_and(|s| r.priority() == Some(s.priority.as_str()))
                    })
                    .cloned()
            }) else {
                return Ok(None);
            };
            let arn = rule
                .rule_arn()
                .ok_or_else(|| AwsError::missing("DescribeRules", "RuleArn"))?;
            let Some(spec) = spec else {
                return Ok(Some(Found::new(arn, serde_json::Value::Null, true).arn(arn)));
            };
            let header = rule
                .conditions()
                .iter()
                .filter_map(|c| c.http_header_config())
                .find(|h| {
                    h.http_header_name()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&spec.header))
                });
            let value = header.and_then(|h| h.values().first().cloned());
            let secret = cx.secret(&spec.origin_secret.arn).await?;
            let version = if value.as_deref() == Some(secret.expose()) {
                spec.origin_secret.version.clone()
            } else {
                DIFFERS.to_string()
            };
            let live = Spec {
                listener: rule_listener(arn).unwrap_or_else(|| spec.listener.clone()),
                priority: rule.priority().unwrap_or_default().to_string(),
                header: header
                    .and_then(|h| h.http_header_name())
                    .unwrap_or_default()
                    .to_string(),
                origin_secret: SecretRef {
                    arn: spec.origin_secret.arn.clone(),
                    version,
                },
                target_group: rule
                    .actions()
                    .iter()
                    .find_map(|a| a.target_group_arn())
                    .unwrap_or_default()
                    .to_string(),
            };
            Ok(Some(Found::new(arn, json(&live), true).arn(arn)))
        })
    }

    fn create<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Found> {
        Box::pin(async move {
            let spec: Spec = at.spec()?;
            let secret = cx.secret(&spec.origin_secret.arn).await?;
            let priority: i32 = spec.priority.parse().unwrap_or(1);
            let out = cx
                .clients
                .elb(at.region)
                .create_rule()
                .listener_arn(&spec.listener)
                .priority(priority)
                .conditions(header_condition(secret.expose()))
                .actions(forward(&spec.target_group))
                .send()
                .await
                .map_err(sdk("CreateRule"))?;
            let arn = out
                .rules()
                .first()
                .and_then(|r| r.rule_arn())
                .ok_or_else(|| AwsError::missing("CreateRule", "Rules.RuleArn"))?;
            Ok(Found::new(arn, json(&spec), true).arn(arn))
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
            let secret = cx.secret(&spec.origin_secret.arn).await?;
            cx.clients
                .elb(at.region)
                .modify_rule()
                .rule_arn(&live.physical_id)
                .conditions(header_condition(secret.expose()))
                .actions(forward(&spec.target_group))
                .send()
                .await
                .map_err(sdk("ModifyRule"))?;
            let mut found = live.clone();
            found.live = json(&spec);
            Ok(found)
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Ctx,
        at: &'a At<'a>,
        live: &'a Found,
        _opts: &'a Options,
    ) -> Fut<'a, Gone> {
        Box::pin(async move {
            unless(
                &["RuleNotFound"],
                cx.clients
                    .elb(at.region)
                    .delete_rule()
                    .rule_arn(&live.physical_id)
                    .send()
                    .await
                    .map_err(sdk("DeleteRule")),
            )?;
            Ok(Gone::Deleted)
        })
    }
}

/// A rule's listener, from its ARN: `...:listener-rule/app/N/L/X/R` ->
/// `...:listener/app/N/L/X`.
fn rule_listener(rule_arn: &str) -> Option<String> {
    let (head, tail) = rule_arn.split_once(":listener-rule/")?;
    let (listener, _) = tail.rsplit_once('/')?;
    Some(format!("{head}:listener/{listener}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_rule_arn_names_its_listener() {
        assert_eq!(
            super::rule_listener("arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/a/b/c/d")
                .as_deref(),
            Some("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/a/b/c")
        );
    }
}
