//! SDK clients, for whatever region an instance lives in. One base config
//! is built once per run by `aws::sdk_config` (credentials, endpoint,
//! retries); each client is that config with the instance's region, so an
//! entry recorded in eu-west-1 is read and deleted in eu-west-1 whatever the
//! profile says now.

use aws_config::{Region, SdkConfig};

use crate::aws::{AwsError, AwsSettings, EDGE_REGION, sdk_config};
use crate::call_log::CallLog;
use crate::state::guard::WriteGuard;

pub struct Clients {
    base: SdkConfig,
    /// A custom endpoint (the emulator, a VPC endpoint) serves every bucket
    /// on one host: address buckets by path.
    path_style: bool,
}

impl Clients {
    pub async fn new(settings: &AwsSettings) -> Self {
        Clients {
            base: sdk_config(settings, EDGE_REGION).await,
            path_style: settings.endpoint_url.is_some(),
        }
    }

    /// From a config built elsewhere (library users, tests).
    pub fn from_config(base: SdkConfig, path_style: bool) -> Self {
        Clients { base, path_style }
    }

    fn config(&self, region: &str) -> SdkConfig {
        self.base
            .to_builder()
            .region(Region::new(call_region(region).to_string()))
            .build()
    }

    /// CloudFront is global; its API answers in us-east-1.
    pub fn cloudfront(&self) -> aws_sdk_cloudfront::Client {
        aws_sdk_cloudfront::Client::from_conf(
            aws_sdk_cloudfront::config::Builder::from(&self.base)
                .interceptor(CallLog)
                .interceptor(WriteGuard)
                .build(),
        )
    }

    /// Read only: CloudFront's quotas, which Service Quotas keeps in
    /// us-east-1 (a global service's quotas are read there).
    pub fn service_quotas(&self) -> aws_sdk_servicequotas::Client {
        aws_sdk_servicequotas::Client::from_conf(
            aws_sdk_servicequotas::config::Builder::from(&self.base)
                .interceptor(CallLog)
                .interceptor(WriteGuard)
                .build(),
        )
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&self.base)
                .interceptor(CallLog)
                .interceptor(WriteGuard)
                .build(),
        )
    }

    pub fn lambda(&self, region: &str) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::from_conf(
            aws_sdk_lambda::config::Builder::from(&self.config(region))
                .interceptor(CallLog)
                .interceptor(WriteGuard)
                .build(),
        )
    }

    /// Read only: the key policies of SSE-KMS origin buckets (stack::grants).
    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::from_conf(
            aws_sdk_kms::config::Builder::from(&self.config(region))
                .interceptor(CallLog)
                .interceptor(WriteGuard)
                .build(),
        )
    }

    pub fn secrets(&self, region: &str) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::from_conf(
            aws_sdk_secretsmanager::config::Builder::from(&self.config(region))
                .interceptor(CallLog)
                .interceptor(WriteGuard)
                .build(),
        )
    }

    pub fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::from_conf(
            aws_sdk_ec2::config::Builder::from(&self.config(region))
                .interceptor(CallLog)
                .interceptor(WriteGuard)
                .build(),
        )
    }

    pub fn elb(&self, region: &str) -> aws_sdk_elasticloadbalancingv2::Client {
        aws_sdk_elasticloadbalancingv2::Client::from_conf(
            aws_sdk_elasticloadbalancingv2::config::Builder::from(&self.config(region))
                .interceptor(CallLog)
                .interceptor(WriteGuard)
                .build(),
        )
    }

    pub fn ecs(&self, region: &str) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::from_conf(
            aws_sdk_ecs::config::Builder::from(&self.config(region))
                .interceptor(CallLog)
                .interceptor(WriteGuard)
                .build(),
        )
    }

    pub fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::from_conf(
            aws_sdk_cloudwatchlogs::config::Builder::from(&self.config(region))
                .interceptor(CallLog)
                .interceptor(WriteGuard)
                .build(),
        )
    }

    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.config(region))
            .force_path_style(self.path_style)
            .interceptor(CallLog)
            .interceptor(WriteGuard)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub fn ecr(&self, region: &str) -> aws_sdk_ecr::Client {
        aws_sdk_ecr::Client::from_conf(
            aws_sdk_ecr::config::Builder::from(&self.config(region))
                .interceptor(CallLog)
                .interceptor(WriteGuard)
                .build(),
        )
    }

    pub fn cognito(&self, region: &str) -> aws_sdk_cognitoidentityprovider::Client {
        aws_sdk_cognitoidentityprovider::Client::from_conf(
            aws_sdk_cognitoidentityprovider::config::Builder::from(&self.config(region))
                .interceptor(CallLog)
                .interceptor(WriteGuard)
                .build(),
        )
    }

    pub fn acm(&self, region: &str) -> aws_sdk_acm::Client {
        aws_sdk_acm::Client::from_conf(
            aws_sdk_acm::config::Builder::from(&self.config(region))
                .interceptor(CallLog)
                .interceptor(WriteGuard)
                .build(),
        )
    }

    /// The account the credentials belong to (bucket names embed it). The
    /// first call of every command, so it fails fast: 3 attempts with a 3 s
    /// connect timeout, and an unreachable endpoint or missing credentials
    /// are named within seconds (later calls keep the patient retries).
    pub async fn account(&self) -> Result<String, AwsError> {
        let quick = self
            .base
            .to_builder()
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3))
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(std::time::Duration::from_secs(3))
                    .build(),
            )
            .build();
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&quick)
                .interceptor(CallLog)
                .interceptor(WriteGuard)
                .build(),
        );
        let out = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetCallerIdentity", e))?;
        out.account().map(str::to_string).ok_or_else(|| AwsError {
            operation: "GetCallerIdentity",
            code: None,
            message: "the answer has no Account field".into(),
        })
    }
}

/// The region an entry's calls go to (`global` services answer in us-east-1).
pub fn call_region(recorded: &str) -> &str {
    if recorded == "global" {
        crate::aws::EDGE_REGION
    } else {
        recorded
    }
}
