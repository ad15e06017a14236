//! The stack's permissions boundary: every role of a HealthImaging stack
//! carries `ahi-edge/<stack>-boundary`, which an administrator creates once
//! (docs/permissions.md). Without it the first CreateRole would fail after
//! the CloudFront policies and the network exist; checked here instead.

use super::Findings;
use crate::aws::AwsError;
use crate::engine::clients::Clients;
use crate::error::Error;
use crate::profile::Profile;
use crate::resources::role::{BOUNDARY_PATH, boundary_arn, boundary_name};

pub(super) async fn check(
    clients: &Clients,
    profile: &Profile,
    account: &str,
    found: &mut Findings,
) -> Result<(), Error> {
    if profile.delivery.is_none() {
        return Ok(());
    }
    let stack = &profile.stack.name;
    let arn = boundary_arn(stack, account);
    match clients.iam().get_policy().policy_arn(&arn).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            found.problems.push(format!(
                "stack.name = {stack:?}: the stack's permissions boundary {arn} does not exist \
                 (fix: an administrator creates it once: `ahi-edge iam-policy --boundary > boundary.json`, then \
                 `aws iam create-policy --path {BOUNDARY_PATH} --policy-name {} --policy-document file://boundary.json`; \
                 docs/permissions.md)",
                boundary_name(stack)
            ));
            Ok(())
        }
        Err(e) => Err(Error::Aws(AwsError::from_sdk("GetPolicy", e))),
    }
}
