//! The proxy's CloudWatch log group, with the profile's retention.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_cloudwatchlogs::Client;

use super::{not_owned, owned_by};
use crate::aws::AwsError;

fn err<E>(operation: &'static str) -> impl FnOnce(aws_sdk_cloudwatchlogs::error::SdkError<E>) -> AwsError
where
    E: aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| AwsError::from_sdk(operation, e)
}

/// The group's ARN (without the `:*` suffix) and retention, if it exists.
pub async fn get(client: &Client, name: &str) -> Result<Option<(String, Option<i32>)>, AwsError> {
    let out = client
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(err("DescribeLogGroups"))?;
    Ok(out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
        .map(|g| {
            let arn = g.arn().unwrap_or_default();
            (
                arn.strip_suffix(":*").unwrap_or(arn).to_string(),
                g.retention_in_days(),
            )
        }))
}

async fn tags(client: &Client, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(err("ListTagsForResource"))?;
    Ok(out.tags().cloned().unwrap_or_default().into_iter().collect())
}

/// Creates the group or adopts ours; sets the retention when it differs.
pub async fn ensure(
    client: &Client,
    name: &str,
    retention_days: i32,
    stack: &str,
    tag_map: &BTreeMap<String, String>,
) -> Result<bool, AwsError> {
    let mut wrote = false;
    let retention = match get(client, name).await? {
        Some((arn, retention)) => {
            if !owned_by(&tags(client, &arn).await?, stack) {
                return Err(not_owned("DescribeLogGroups", "log group", name, stack));
            }
            retention
        }
        None => {
            let tags: HashMap<String, String> = tag_map.clone().into_iter().collect();
            client
                .create_log_group()
                .log_group_name(name)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(err("CreateLogGroup"))?;
            wrote = true;
            None
        }
    };
    if retention != Some(retention_days) {
        client
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(retention_days)
            .send()
            .await
            .map_err(err("PutRetentionPolicy"))?;
        wrote = true;
    }
    Ok(wrote)
}

/// Deletes the group if it is ours; gone counts as done.
pub async fn delete(client: &Client, name: &str, stack: &str) -> Result<(), AwsError> {
    let Some((arn, _)) = get(client, name).await? else {
        return Ok(());
    };
    if !owned_by(&tags(client, &arn).await?, stack) {
        return Err(not_owned("DescribeLogGroups", "log group", name, stack));
    }
    match client.delete_log_group().log_group_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeleteLogGroup", e)),
    }
}
