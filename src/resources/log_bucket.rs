//! The access-log bucket, in the HealthImaging region: the ALB writes under
//! `alb/`, CloudFront under `cloudfront/`. ACLs enabled (BucketOwnerPreferred,
//! which CloudFront standard logging needs), SSE-S3, public access blocked,
//! TLS-only. `down` keeps it unless `--purge-logs`.

use serde_json::{Value, json};

/// The account Elastic Load Balancing writes access logs from, in regions
/// older than August 2022; newer regions use the log-delivery service principal.
fn elb_log_account(region: &str) -> Option<&'static str> {
    Some(match region {
        "us-east-1" => "127311923021",
        "us-east-2" => "033677994240",
        "us-west-1" => "027434742980",
        "us-west-2" => "797873946194",
        "eu-west-1" => "156460612806",
        "eu-west-2" => "652711504416",
        "eu-west-3" => "009996457667",
        "eu-central-1" => "054676820928",
        "eu-north-1" => "897822967062",
        "ap-southeast-1" => "114774131450",
        "ap-southeast-2" => "783225319266",
        "ap-northeast-1" => "582318560864",
        "ap-northeast-2" => "600734575887",
        "ap-south-1" => "718504428378",
        "ca-central-1" => "985666609251",
        "sa-east-1" => "507241528517",
        _ => return None,
    })
}

/// TLS-only, and the ALB may write under `alb/`.
pub fn policy(bucket: &str, account: &str, region: &str) -> Value {
    let principal = match elb_log_account(region) {
        Some(elb) => json!({"AWS": format!("arn:aws:iam::{elb}:root")}),
        None => json!({"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}),
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            },
            {
                "Sid": "AlbAccessLogs",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:PutObject",
                "Resource": format!("arn:aws:s3:::{bucket}/alb/AWSLogs/{account}/*")
            }
        ]
    })
}
