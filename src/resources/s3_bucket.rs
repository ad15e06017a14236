//! What S3 says of a bucket no kind owns (an origin's bucket): where it is.

use aws_sdk_s3::error::SdkError;

use crate::aws::AwsError;

/// Where S3 says `bucket` is, asked in `region`; `None` when it does not
/// exist (404). A refusal without the region header is AWS's own error.
pub async fn region_of(
    s3: &aws_sdk_s3::Client,
    region: &str,
    bucket: &str,
) -> Result<Option<String>, AwsError> {
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => Ok(Some(out.bucket_region().unwrap_or(region).to_string())),
        Err(e) => {
            let named = match &e {
                SdkError::ServiceError(s) => s.raw().headers().get("x-amz-bucket-region").map(str::to_string),
                _ => None,
            };
            let status = match &e {
                SdkError::ServiceError(s) => Some(s.raw().status().as_u16()),
                _ => None,
            };
            match (named, status) {
                (Some(found), _) => Ok(Some(found)),
                (None, Some(404)) => Ok(None),
                _ => Err(AwsError::from_sdk("HeadBucket", e)),
            }
        }
    }
}
