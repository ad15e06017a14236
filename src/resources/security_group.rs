//! The two security groups: the ALB's, open only to CloudFront's
//! origin-facing prefix list on the listener port, and the tasks', open
//! only to the ALB's group on the proxy port.

/// CloudFront's origin-facing addresses (IPv4), as an AWS-managed prefix list.
pub const CLOUDFRONT_PREFIX_LIST: &str = "com.amazonaws.global.cloudfront.origin-facing";
pub const PROXY_PORT: i32 = 8080;
