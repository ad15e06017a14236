//! The forwarding rule (`elbv2-listener-rule`): at its priority, it
//! forwards to the target group only requests carrying the origin header
//! with the secret's value. The spec names the secret by ARN and version;
//! the value is read from Secrets Manager, compared, never recorded (a live
//! value that differs shows as the version `(differs)`).
//!
//! During `rotate-origin-secret` the rule also accepts the new version
//! (`rotating_to`): the condition holds both values until CloudFront sends
//! only the new one.

use aws_sdk_elasticloadbalancingv2::types::Rule;
use serde::{Deserialize, Serialize};

use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Resource};
use crate::engine::step::{Cx, Step};
use crate::resources::load_balancer::{forward, header_condition_any};
use crate::resources::origin_secret::SecretValue;

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
    /// The version a rotation moves to, accepted beside `origin_secret`
    /// (absent outside a rotation, so the recorded spec is unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotating_to: Option<SecretRef>,
}

/// The values the rule must accept, in the spec's order.
async fn accepted(cx: &Cx, spec: &Spec) -> Step<Vec<SecretValue>> {
    let mut values = vec![
        cx.secret_version(&spec.origin_secret.arn, &spec.origin_secret.version)
            .await?,
    ];
    if let Some(next) = &spec.rotating_to {
        values.push(cx.secret_version(&next.arn, &next.version).await?);
    }
    Ok(values)
}

fn condition(values: &[SecretValue]) -> aws_sdk_elasticloadbalancingv2::types::RuleCondition {
    let exposed: Vec<&str> = values.iter().map(SecretValue::expose).collect();
    header_condition_any(&exposed)
}

pub const DIFFERS: &str = "(differs)";

impl Resource for ListenerRule {
    type Spec = Spec;

    const NAME: &'static str = "elbv2-listener-rule";

    const REPLACE: &'static [&'static str] = &["listener", "priority"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        // A migrated entry has no spec: it is found by ARN, compared with nothing.
        let spec = at.spec().ok();
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
        // The live values as a set against the accepted ones: any other
        // value, or one missing, makes the secret differ.
        let mut live_values: Vec<&str> = header
            .map(|h| h.values().iter().map(String::as_str).collect())
            .unwrap_or_default();
        live_values.sort_unstable();
        live_values.dedup();
        let wanted = accepted(cx, spec).await?;
        let mut wanted: Vec<&str> = wanted.iter().map(SecretValue::expose).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let version = if live_values == wanted {
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
            rotating_to: spec.rotating_to.clone(),
        };
        Ok(Some(Found::new(arn, &live, true).arn(arn)))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let values = accepted(cx, spec).await?;
        let priority: i32 = spec.priority.parse().unwrap_or(1);
        let out = cx
            .clients
            .elb(at.region)
            .create_rule()
            .listener_arn(&spec.listener)
            .priority(priority)
            .conditions(condition(&values))
            .actions(forward(&spec.target_group))
            .send()
            .await
            .map_err(sdk("CreateRule"))?;
        let arn = out
            .rules()
            .first()
            .and_then(|r| r.rule_arn())
            .ok_or_else(|| AwsError::missing("CreateRule", "Rules.RuleArn"))?;
        Ok(Found::new(arn, spec, true).arn(arn))
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let values = accepted(cx, spec).await?;
        cx.clients
            .elb(at.region)
            .modify_rule()
            .rule_arn(&live.physical_id)
            .conditions(condition(&values))
            .actions(forward(&spec.target_group))
            .send()
            .await
            .map_err(sdk("ModifyRule"))?;
        Ok(live.applied(spec))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
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
