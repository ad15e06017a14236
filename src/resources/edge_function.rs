//! The Lambda@Edge authorizer function in us-east-1, and the numbered
//! version CloudFront references. A new version is published only when the
//! package or the function's settings changed, so an unchanged `up` makes
//! no write call and the distribution keeps pointing at the same version.

use aws_sdk_lambda::Client;

use crate::aws::AwsError;

pub const LOGICAL_ID: &str = "edge_function";

/// Lambda@Edge limits for viewer-request functions.
pub const MEMORY_MB: i32 = 128;
pub const TIMEOUT_S: i32 = 5;

/// Lambda refuses to delete a function CloudFront still has replicas of
/// (there is no distinct error code, so the message is matched).
pub fn is_replicated(e: &AwsError) -> bool {
    e.is("InvalidParameterValueException") && e.message.contains("because it is a replicated function")
}

/// Deletes the function (every version); gone counts as done. A replicated
/// function comes back as an error `is_replicated` recognises.
pub async fn delete(client: &Client, name: &str) -> Result<(), AwsError> {
    match client.delete_function().function_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeleteFunction", e)),
    }
}

/// How many replicas of `name`'s versions Lambda lists in the region of
/// `client` (`ListFunctions` with `MasterRegion=us-east-1`,
/// `FunctionVersion=ALL`, pages of 50).
pub async fn replicas_in(client: &Client, name: &str) -> Result<usize, AwsError> {
    let suffix = format!(":function:{name}");
    let mut count = 0;
    let mut marker: Option<String> = None;
    loop {
        let page = client
            .list_functions()
            .master_region(crate::aws::EDGE_REGION)
            .function_version(aws_sdk_lambda::types::FunctionVersion::All)
            .max_items(50)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListFunctions", e))?;
        count += page
            .functions()
            .iter()
            .filter(|f| {
                f.master_arn()
                    .is_some_and(|m| m.ends_with(&suffix) || m.contains(&format!("{suffix}:")))
            })
            .count();
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            return Ok(count);
        }
    }
}
