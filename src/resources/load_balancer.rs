//! The regional proxy's front door: an internet-facing ALB (invalid header
//! fields dropped, access logs on), its target group (ip targets on 8080,
//! health check `/healthcheck`), a listener whose default answer is a
//! fixed 403, and one rule (priority 1) that forwards only requests
//! carrying the origin header CloudFront adds.
//!
//! ALB and target group names are unique per account and region, so they
//! are found by name; listeners and rules hang off their parent's ARN.

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, FixedResponseActionConfig, HttpHeaderConditionConfig, RuleCondition, Tag,
};

use crate::aws::AwsError;
use crate::resources::Tags;
use crate::resources::distribution::ORIGIN_HEADER;

pub const TLS_POLICY: &str = "ELBSecurityPolicy-TLS-1-2-Ext-2018-06";
pub const HEALTH_CHECK_PATH: &str = "/healthcheck";
pub const DENIED_BODY: &str = "Access denied";

fn err<E>(
    operation: &'static str,
) -> impl FnOnce(aws_sdk_elasticloadbalancingv2::error::SdkError<E>) -> AwsError
where
    E: aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| AwsError::from_sdk(operation, e)
}

pub fn tags(map: &BTreeMap<String, String>) -> Vec<Tag> {
    map.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub async fn tags_of(client: &Client, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = client
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .map_err(err("DescribeTags"))?;
    Ok(out
        .tag_descriptions()
        .iter()
        .flat_map(|d| d.tags())
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect())
}

/// Brings the tags of the ALB or target group at `arn` from `have` to `want`.
pub async fn sync_tags(client: &Client, arn: &str, want: &Tags, have: &Tags) -> Result<(), AwsError> {
    let add = async |set: Tags| {
        let call = client.add_tags().resource_arns(arn).set_tags(Some(tags(&set)));
        call.send().await.map(drop).map_err(err("AddTags"))
    };
    let remove = async |keys| {
        let call = client.remove_tags().resource_arns(arn).set_tag_keys(Some(keys));
        call.send().await.map(drop).map_err(err("RemoveTags"))
    };
    crate::resources::sync_tags(want, have, add, remove).await
}

pub fn denied() -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::FixedResponse)
        .fixed_response_config(
            FixedResponseActionConfig::builder()
                .status_code("403")
                .content_type("text/plain")
                .message_body(DENIED_BODY)
                .build(),
        )
        .build()
}

/// The origin header condition with one value per accepted version: an
/// ALB http-header condition matches any of its values (a rotation holds
/// the old and the new one at once).
pub fn header_condition_any(values: &[&str]) -> RuleCondition {
    RuleCondition::builder()
        .field("http-header")
        .http_header_config(
            HttpHeaderConditionConfig::builder()
                .http_header_name(ORIGIN_HEADER)
                .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
                .build(),
        )
        .build()
}

pub fn forward(target_group_arn: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(target_group_arn)
        .build()
}
