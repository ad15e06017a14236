//! Physical names derived from the stack name.
//!
//! Every AWS name the tool creates comes from here, so two stacks with
//! different names never collide, and `validate` can check each derived name
//! against its AWS limit before anything is created.

/// The stack name's own rules: lower case so it can appear in S3 bucket names.
pub const STACK_NAME_RULE: &str =
    "lower-case letters, digits and single hyphens, starting with a letter and ending with a letter or digit";

/// CloudFront's limit on the comment of a distribution, a CloudFront
/// Function, a cache or origin request policy, a public key and a key group
/// (API reference, DistributionConfig / FunctionConfig / CachePolicyConfig /
/// OriginRequestPolicyConfig / PublicKeyConfig / KeyGroupConfig: "The
/// comment cannot be longer than 128 characters."). Every comment ahi-edge
/// sends is built from the stack name and names the profile gives, each of
/// bounded length; unit tests build each with the longest ones.
pub const CLOUDFRONT_COMMENT_MAX: usize = 128;

/// The longest name a profile may give a signer or a signer's key id.
pub const MAX_PROFILE_NAME: usize = 32;

/// Every account id is 12 digits; names that embed one are checked with this stand-in.
const ACCOUNT_PLACEHOLDER: &str = "000000000000";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedName {
    pub what: &'static str,
    pub name: String,
    pub limit: usize,
}

/// Names of the stack's resources. Bucket names embed the account id and
/// region because S3 names are global.
pub struct StackNames<'a> {
    pub stack: &'a str,
}

impl StackNames<'_> {
    pub fn edge_function(&self) -> String {
        format!("{}-edge-auth", self.stack)
    }
    pub fn edge_role(&self) -> String {
        format!("{}-edge-auth", self.stack)
    }
    pub fn cache_policy(&self) -> String {
        format!("{}-cache", self.stack)
    }
    pub fn origin_request_policy(&self) -> String {
        format!("{}-origin-request", self.stack)
    }
    pub fn response_headers_policy(&self) -> String {
        format!("{}-headers", self.stack)
    }
    pub fn log_bucket(&self, account: &str, region: &str) -> String {
        format!("{}-logs-{account}-{region}", self.stack)
    }
    pub fn load_balancer(&self) -> String {
        format!("{}-alb", self.stack)
    }
    pub fn target_group(&self) -> String {
        format!("{}-tg", self.stack)
    }
    pub fn origin_secret(&self) -> String {
        format!("ahi-edge/{}/origin-header", self.stack)
    }
    pub fn cluster(&self) -> String {
        self.stack.to_string()
    }
    pub fn service(&self) -> String {
        format!("{}-proxy", self.stack)
    }
    pub fn task_family(&self) -> String {
        format!("{}-proxy", self.stack)
    }
    pub fn task_execution_role(&self) -> String {
        format!("{}-proxy-exec", self.stack)
    }
    pub fn task_role(&self) -> String {
        format!("{}-proxy-task", self.stack)
    }
    pub fn proxy_log_group(&self) -> String {
        format!("/ahi-edge/{}/proxy", self.stack)
    }
    pub fn alb_security_group(&self) -> String {
        format!("{}-alb", self.stack)
    }
    pub fn task_security_group(&self) -> String {
        format!("{}-tasks", self.stack)
    }

    /// Every derived name with its AWS length limit, for the longest region.
    pub fn all(&self, region: &str) -> Vec<DerivedName> {
        let n = |what, name, limit| DerivedName { what, name, limit };
        vec![
            n("Lambda@Edge function name", self.edge_function(), 64),
            n("IAM role name (edge authorizer)", self.edge_role(), 64),
            n("IAM role name (task execution)", self.task_execution_role(), 64),
            n("IAM role name (task)", self.task_role(), 64),
            n("CloudFront cache policy name", self.cache_policy(), 128),
            n(
                "CloudFront response headers policy name",
                self.response_headers_policy(),
                128,
            ),
            n(
                "CloudFront origin request policy name",
                self.origin_request_policy(),
                128,
            ),
            n(
                "S3 log bucket name",
                self.log_bucket(ACCOUNT_PLACEHOLDER, region),
                63,
            ),
            n("load balancer name", self.load_balancer(), 32),
            n("target group name", self.target_group(), 32),
            n("Secrets Manager secret name", self.origin_secret(), 512),
            n("ECS cluster name", self.cluster(), 255),
            n("ECS service name", self.service(), 255),
            n("ECS task definition family", self.task_family(), 255),
            n("CloudWatch log group name", self.proxy_log_group(), 512),
            n("security group name", self.alb_security_group(), 255),
            n("security group name", self.task_security_group(), 255),
        ]
    }

    /// Derived names AWS refuses for their prefix or suffix, with the rule:
    /// ELB names may not begin with `internal-`; security group names may
    /// not begin with `sg-`; S3 bucket names may not begin with `sthree-`
    /// or `amzn-s3-demo-`, nor end with `-s3alias` or `--ol-s3`.
    pub fn reserved(&self, region: &str) -> Vec<(DerivedName, &'static str)> {
        let rule = |d: &DerivedName| -> Option<&'static str> {
            let n = d.name.as_str();
            match d.what {
                "load balancer name" | "target group name" if n.starts_with("internal-") => {
                    Some("Elastic Load Balancing names may not begin with \"internal-\"")
                }
                "security group name" if n.starts_with("sg-") => {
                    Some("security group names may not begin with \"sg-\"")
                }
                "S3 log bucket name" if n.starts_with("sthree-") || n.starts_with("amzn-s3-demo-") => {
                    Some("S3 bucket names may not begin with \"sthree-\" or \"amzn-s3-demo-\"")
                }
                "S3 log bucket name" if n.ends_with("-s3alias") || n.ends_with("--ol-s3") => {
                    Some("S3 bucket names may not end with \"-s3alias\" or \"--ol-s3\"")
                }
                _ => None,
            }
        };
        self.all(region)
            .into_iter()
            .filter_map(|d| rule(&d).map(|r| (d, r)))
            .collect()
    }

    /// The derived names that exceed their limit.
    pub fn too_long(&self, region: &str) -> Vec<DerivedName> {
        self.all(region)
            .into_iter()
            .filter(|d| d.name.len() > d.limit)
            .collect()
    }
}

/// The longest stack name whose derived names all fit, in `region`.
pub fn max_stack_name_len(region: &str) -> usize {
    let probe = StackNames { stack: "" };
    probe
        .all(region)
        .iter()
        .map(|d| d.limit.saturating_sub(d.name.len()))
        .min()
        .unwrap_or(0)
}

/// Checks the characters of a stack name (length is checked via derived names).
pub fn check_stack_name_chars(name: &str) -> Result<(), String> {
    let bytes = name.as_bytes();
    let ok = bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes
            .last()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && !name.contains("--");
    if ok {
        Ok(())
    } else {
        Err(format!("must be {STACK_NAME_RULE}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_stack_name_is_set_by_the_tightest_limit() {
        // ALB "<stack>-alb" <= 32 and bucket "<stack>-logs-<12>-ap-southeast-2" <= 63.
        assert_eq!(max_stack_name_len("us-east-1"), 28);
        assert_eq!(max_stack_name_len("ap-southeast-2"), 28);
        let fits = "a".repeat(28);
        assert!(StackNames { stack: &fits }.too_long("ap-southeast-2").is_empty());
        let long = "a".repeat(29);
        let over = StackNames { stack: &long }.too_long("us-east-1");
        assert_eq!(over[0].what, "load balancer name");
    }

    #[test]
    fn reserved_prefixes_are_found_with_their_rule() {
        let sg = StackNames { stack: "sg-imaging" }.reserved("us-east-1");
        assert_eq!(sg.len(), 2, "both groups: {sg:?}");
        assert_eq!(sg[0].0.name, "sg-imaging-alb");
        let elb = StackNames {
            stack: "internal-imaging",
        }
        .reserved("us-east-1");
        assert_eq!(elb[0].0.what, "load balancer name");
        let s3 = StackNames {
            stack: "sthree-imaging",
        }
        .reserved("us-east-1");
        assert_eq!(s3[0].0.what, "S3 log bucket name");
        assert!(
            StackNames {
                stack: "ahi-delivery"
            }
            .reserved("us-east-1")
            .is_empty()
        );
    }

    #[test]
    fn stack_name_characters() {
        assert!(check_stack_name_chars("ahi-prod-1").is_ok());
        for bad in ["", "1abc", "Ahi", "ahi_prod", "ahi-", "ahi--prod", "ahi.prod"] {
            assert!(check_stack_name_chars(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn two_stacks_never_share_a_name() {
        let a = StackNames { stack: "ahi-a" }.all("us-east-1");
        let b = StackNames { stack: "ahi-b" }.all("us-east-1");
        for (x, y) in a.iter().zip(&b) {
            assert_ne!(x.name, y.name, "{}", x.what);
        }
    }
}
