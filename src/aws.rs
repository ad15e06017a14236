//! AWS SDK configuration, built in exactly one place, and the typed error
//! every resource module returns.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudfront::error::ProvideErrorMetadata;

/// What the AWS SDK config is built from (credential chain via aws-config),
/// resolved from the flags by `settings`.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
}

/// Where edge resources (Lambda@Edge, CloudFront policies) always live.
pub const EDGE_REGION: &str = "us-east-1";

/// SDK settings for one region: the standard credential chain (environment,
/// shared config and SSO, container and instance roles), the named profile
/// and endpoint from the flags, and the SDK's standard retries (throttling,
/// 5xx and dropped connections) with room for a busy account.
pub async fn sdk_config(settings: &AwsSettings, region: &str) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .retry_config(RetryConfig::standard().with_max_attempts(8));
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// An AWS call that failed, with AWS's own code and message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{operation}: {message}{}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
pub struct AwsError {
    pub operation: &'static str,
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    /// From any SDK error: service errors keep their code; transport and
    /// timeout errors carry the SDK's description.
    pub fn from_sdk<E>(operation: &'static str, err: aws_sdk_cloudfront::error::SdkError<E>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        use aws_sdk_cloudfront::error::SdkError;
        let code = err.code().map(str::to_string);
        let message = match (&err, err.message()) {
            (_, Some(m)) => m.to_string(),
            (SdkError::DispatchFailure(d), None) => {
                let causes = causes(&err);
                if causes.iter().any(|c| c.contains("credentials")) {
                    format!(
                        "no usable AWS credentials ({}); fix: pass --aws-profile NAME, run `aws sso login`, \
                         or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                        causes.last().map(String::as_str).unwrap_or("none found")
                    )
                } else if d.is_io() || d.is_timeout() {
                    format!(
                        "cannot connect to AWS ({}); fix: check the network, or --endpoint-url / AWS_ENDPOINT_URL \
                         if you set one",
                        causes.last().map(String::as_str).unwrap_or("connection failed")
                    )
                } else {
                    causes.join(": ")
                }
            }
            (SdkError::TimeoutError(_), None) => "no answer in time (the SDK's timeout); run again".into(),
            _ => causes(&err).join(": "),
        };
        AwsError {
            operation,
            code,
            message,
        }
    }

    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    pub fn is_any(&self, codes: &[&str]) -> bool {
        codes.iter().any(|c| self.is(c))
    }

    /// An answer without a field the call always returns: named, never
    /// papered over with a default.
    pub fn missing(operation: &'static str, field: &str) -> Self {
        AwsError {
            operation,
            code: None,
            message: format!("the answer has no {field}"),
        }
    }
}

/// Each distinct message down an error's source chain, outermost first:
/// one readable line instead of the SDK's Debug structure.
fn causes(err: &dyn std::error::Error) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut next: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !out.iter().any(|seen| seen.contains(&text)) {
            out.push(text);
        }
        next = e.source();
    }
    out
}

/// The error mapper for one operation, for any SDK: `.map_err(sdk("CreateVpc"))`.
pub fn sdk<E>(operation: &'static str) -> impl FnOnce(aws_sdk_cloudfront::error::SdkError<E>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| AwsError::from_sdk(operation, e)
}

/// The call's answer, with the given "not found" codes as `None`.
pub fn unless<T>(codes: &[&str], result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_any(codes) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn flags_reach_the_sdk_config() {
        let settings = AwsSettings {
            endpoint_url: Some("http://127.0.0.1:4566".into()),
            profile: None,
        };
        let config = sdk_config(&settings, "eu-west-1").await;
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:4566"));
        assert_eq!(config.retry_config().map(|r| r.max_attempts()), Some(8));
    }
}
