//! The CloudFront-to-ALB header value, kept in Secrets Manager. The
//! lockfile records the secret's ARN and version, never its value; the
//! value lives only in memory, in a type that will not print itself.

use std::fmt;

use aws_sdk_secretsmanager::Client;

use crate::aws::AwsError;

pub const LOGICAL_ID: &str = "origin_secret";
/// An ALB http-header condition value holds at most 128 characters; the
/// seed used 32 letters and digits.
pub const LENGTH: i64 = 32;

/// The header value. Debug and Display never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// The value itself, for the two places that must send it (the
    /// distribution's origin header and the ALB listener rule).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The current value and its version.
pub async fn value(client: &Client, arn: &str) -> Result<(SecretValue, String), AwsError> {
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("GetSecretValue", e))?;
    Ok((
        SecretValue(out.secret_string().unwrap_or_default().to_string()),
        out.version_id().unwrap_or_default().to_string(),
    ))
}

/// The value of one version, by its id.
pub async fn value_at(client: &Client, arn: &str, version: &str) -> Result<SecretValue, AwsError> {
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .version_id(version)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("GetSecretValue", e))?;
    Ok(SecretValue(out.secret_string().unwrap_or_default().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_never_prints_itself() {
        let secret = SecretValue("Abc123Abc123Abc123Abc123Abc123Ab".into());
        assert_eq!(format!("{secret}"), "<redacted>");
        assert_eq!(format!("{secret:?}"), "SecretValue(<redacted>)");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(SecretValue(<redacted>))");
        assert_eq!(secret.expose().len(), 32);
    }
}
