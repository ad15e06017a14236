//! One SDK client per service, built once per run from `aws::sdk_config`:
//! edge services in us-east-1, the rest in the HealthImaging region.

use aws_config::{Region, SdkConfig};

use crate::aws::{AwsError, EDGE_REGION, sdk_config};
use crate::settings::AwsSettings;

pub struct Clients {
    pub cloudfront: aws_sdk_cloudfront::Client,
    /// Lambda in us-east-1, where Lambda@Edge functions live.
    pub edge_lambda: aws_sdk_lambda::Client,
    pub iam: aws_sdk_iam::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub s3: aws_sdk_s3::Client,
    pub acm: aws_sdk_acm::Client,
    pub acm_edge: aws_sdk_acm::Client,
    edge: SdkConfig,
    regional: SdkConfig,
}

impl Clients {
    pub async fn new(settings: &AwsSettings, region: &str) -> Self {
        let edge = sdk_config(settings, EDGE_REGION).await;
        let regional = sdk_config(settings, region).await;
        // A custom endpoint (the emulator, a VPC endpoint) serves every
        // bucket on one host: address buckets by path.
        let s3 = aws_sdk_s3::config::Builder::from(&regional)
            .force_path_style(settings.endpoint_url.is_some())
            .build();
        Clients {
            cloudfront: aws_sdk_cloudfront::Client::new(&edge),
            edge_lambda: aws_sdk_lambda::Client::new(&edge),
            iam: aws_sdk_iam::Client::new(&edge),
            secrets: aws_sdk_secretsmanager::Client::new(&regional),
            ec2: aws_sdk_ec2::Client::new(&regional),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&regional),
            ecs: aws_sdk_ecs::Client::new(&regional),
            logs: aws_sdk_cloudwatchlogs::Client::new(&regional),
            s3: aws_sdk_s3::Client::from_conf(s3),
            acm: aws_sdk_acm::Client::new(&regional),
            acm_edge: aws_sdk_acm::Client::new(&edge),
            edge,
            regional,
        }
    }

    /// Lambda in another region, to list Lambda@Edge replicas there.
    pub fn lambda_in(&self, region: &str) -> aws_sdk_lambda::Client {
        let config = aws_sdk_lambda::config::Builder::from(&self.edge)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_lambda::Client::from_conf(config)
    }

    /// The account the credentials belong to (bucket names embed it).
    pub async fn account(&self) -> Result<String, AwsError> {
        let sts = aws_sdk_sts::Client::new(&self.regional);
        let out = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetCallerIdentity", e))?;
        Ok(out.account().unwrap_or_default().to_string())
    }
}
