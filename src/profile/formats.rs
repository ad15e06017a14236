//! Pure checks of AWS identifiers and limits. No I/O, no AWS calls.
//!
//! Each check returns `Err(reason)` with a sentence that can stand after the
//! value in a message; the caller adds the key, place and fix.

/// Regions where AWS HealthImaging is offered.
pub const HEALTHIMAGING_REGIONS: &[&str] = &["us-east-1", "us-west-2", "ap-southeast-2", "eu-west-1"];

/// Commercial AWS regions (partition `aws`).
pub const AWS_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// Regions that hold CloudFront regional edge caches, where Lambda@Edge
/// replicas appear. AWS publishes no API for this list, so it is a profile
/// setting (`lambda_edge.replica_regions`) with this default.
pub const DEFAULT_REPLICA_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "sa-east-1",
];

/// CloudWatch Logs accepts only these retention periods (days).
pub const LOG_RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// The fix for a region that is not one: the closest of `choices` when
/// it looks like a typo (`us-east1`, `eu-west-l`), else `otherwise`.
pub fn region_fix(s: &str, choices: &[&str], otherwise: &str) -> String {
    // Separators dropped, and the look-alikes people type for digits.
    let plain = |r: &str| {
        r.to_ascii_lowercase()
            .replace(['-', '_', ' '], "")
            .replace('l', "1")
            .replace('o', "0")
    };
    choices
        .iter()
        .map(|c| (strsim::jaro_winkler(&plain(c), &plain(s)), *c))
        .filter(|(score, _)| *score >= 0.93)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map_or_else(
            || otherwise.to_string(),
            |(_, c)| format!("did you mean \"{c}\"?"),
        )
}

/// A HealthImaging data store, image set or frame id: 32 lower-case
/// letters or digits (what the edge and the proxy accept in a path).
pub fn is_healthimaging_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

pub fn is_region(s: &str) -> bool {
    AWS_REGIONS.contains(&s)
}

/// An ARN split into its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

pub fn parse_arn(s: &str) -> Result<Arn<'_>, String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts[..] else {
        return Err("is not an ARN (arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE)".into());
    };
    if prefix != "arn" {
        return Err("is not an ARN: it must start with `arn:`".into());
    }
    if partition != "aws" {
        return Err(format!(
            "is in partition {partition:?}; HealthImaging exists only in partition \"aws\""
        ));
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "has account {account:?}, which is not a 12-digit AWS account id"
        ));
    }
    if resource.is_empty() {
        return Err("has no resource part".into());
    }
    Ok(Arn {
        partition,
        service,
        region,
        account,
        resource,
    })
}

/// An ACM certificate ARN, in `region` (CloudFront needs us-east-1; an ALB
/// needs its own region).
pub fn check_acm_certificate_arn(s: &str, region: &str) -> Result<(), String> {
    let arn = parse_arn(s)?;
    if arn.service != "acm" || !arn.resource.starts_with("certificate/") {
        return Err(format!("is a {} ARN, not an ACM certificate ARN", arn.service));
    }
    if arn.resource.len() <= "certificate/".len() {
        return Err("has no certificate id after `certificate/`".into());
    }
    if arn.region != region {
        return Err(format!("is in region {}, but it must be in {region}", arn.region));
    }
    Ok(())
}

/// A WAFv2 web ACL for CloudFront: scope CLOUDFRONT lives in us-east-1 as `global/webacl/...`.
pub fn check_cloudfront_web_acl_arn(s: &str) -> Result<(), String> {
    let arn = parse_arn(s)?;
    if arn.service != "wafv2" {
        return Err(format!("is a {} ARN, not a WAFv2 web ACL ARN", arn.service));
    }
    if !arn.resource.starts_with("global/webacl/") {
        return Err(
            "is not a CloudFront-scoped web ACL (its resource must start with `global/webacl/`)".into(),
        );
    }
    if arn.region != "us-east-1" {
        return Err(format!(
            "is in region {}; CloudFront web ACLs live in us-east-1",
            arn.region
        ));
    }
    Ok(())
}

/// Cognito user pool id: `<region>_<letters and digits>`, at most 55 characters.
/// Returns the region prefix.
pub fn check_user_pool_id(s: &str) -> Result<&str, String> {
    if s.len() > 55 {
        return Err(format!(
            "is {} characters long; a user pool id has at most 55",
            s.len()
        ));
    }
    let Some((region, suffix)) = s.split_once('_') else {
        return Err("is not a user pool id: expected <region>_<id>, e.g. us-east-1_Ab12Cd34E".into());
    };
    if suffix.is_empty() || !suffix.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("is not a user pool id: the part after `_` must be letters and digits".into());
    }
    if !is_region(region) {
        return Err(format!("starts with {region:?}, which is not an AWS region"));
    }
    Ok(region)
}

/// Cognito app client id: 1-128 word characters or `+`.
pub fn check_client_id(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 128 {
        return Err(format!(
            "is {} characters long; an app client id has 1 to 128",
            s.len()
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'+')
    {
        return Err("has characters other than letters, digits, `_` and `+`".into());
    }
    Ok(())
}

/// A DNS name (optionally a `*.` wildcard), as CloudFront aliases and ALB hostnames are.
pub fn check_dns_name(s: &str, allow_wildcard: bool) -> Result<(), String> {
    let name = s.strip_suffix('.').unwrap_or(s);
    if name.is_empty() || name.len() > 253 {
        return Err("must be 1 to 253 characters".into());
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Err("must have at least two labels, e.g. images.example.com".into());
    }
    for (i, label) in labels.iter().enumerate() {
        if i == 0 && *label == "*" {
            if !allow_wildcard {
                return Err("may not be a wildcard here".into());
            }
            continue;
        }
        let valid = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            return Err(format!(
                "has label {label:?}; labels are 1-63 letters, digits or `-`, not starting or ending with `-`"
            ));
        }
    }
    Ok(())
}

/// An HTTP header name (RFC 9110 token).
pub fn check_header_name(s: &str) -> Result<(), String> {
    const TCHAR: &[u8] = b"!#$%&'*+-.^_`|~";
    if s.is_empty() {
        return Err("is empty".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || TCHAR.contains(&(*c as u8)) && c.is_ascii()))
    {
        return Err(format!("has {c:?}, which is not allowed in a header name"));
    }
    Ok(())
}

/// An https URL with a host, for OIDC issuers and JWKS endpoints.
pub fn check_https_url(s: &str) -> Result<(), String> {
    let Some(rest) = s.strip_prefix("https://") else {
        return Err("must start with https://".into());
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || s.chars().any(char::is_whitespace) {
        return Err("is not a URL with a host name".into());
    }
    Ok(())
}

/// Memory sizes (MiB) Fargate accepts for a Linux task with `cpu` units.
pub fn fargate_memory_options(cpu: i64) -> Option<Vec<i64>> {
    let (from, to, step) = match cpu {
        256 => return Some(vec![512, 1024, 2048]),
        512 => (1024, 4096, 1024),
        1024 => (2048, 8192, 1024),
        2048 => (4096, 16384, 1024),
        4096 => (8192, 30720, 1024),
        8192 => (16384, 61440, 4096),
        16384 => (32768, 122880, 8192),
        _ => return None,
    };
    Some((from..=to).step_by(step).collect())
}

pub const FARGATE_CPU: &[i64] = &[256, 512, 1024, 2048, 4096, 8192, 16384];

/// A container image reference: `[registry/]repository[:tag][@sha256:digest]`.
pub fn check_image(s: &str) -> Result<(), String> {
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("is not an image reference (no spaces allowed)".into());
    }
    if let Some((scheme, _)) = s.split_once("://") {
        return Err(format!(
            "starts with a URL scheme ({scheme}://): an image reference is REGISTRY/REPOSITORY:TAG, which ECS would read as registry \"{scheme}:\""
        ));
    }
    let (name, digest) = match s.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        let hex = d.strip_prefix("sha256:").unwrap_or("");
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("has a digest that is not sha256:<64 hex digits>".into());
        }
    }
    // A tag follows the last ':' after the last '/' (a registry may have a port).
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match name[last_slash..].rfind(':') {
        Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
        None => (name, None),
    };
    let path = repo.split_once('/').map_or(repo, |(first, rest)| {
        // The first component is a registry when it looks like a host.
        if first.contains('.') || first.contains(':') || first == "localhost" {
            rest
        } else {
            repo
        }
    });
    if path.is_empty()
        || !path
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/".contains(&b))
    {
        return Err(
            "has a repository name with characters other than lower-case letters, digits and ._-/".into(),
        );
    }
    if let Some(tag) = tag
        && (tag.is_empty()
            || tag.len() > 128
            || !tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)))
    {
        return Err("has a tag that is not 1-128 letters, digits or ._-".into());
    }
    Ok(())
}

/// Whether an image reference pins a specific build (a digest or a tag other than `latest`).
pub fn image_is_pinned(s: &str) -> bool {
    if s.contains('@') {
        return true;
    }
    let last = s.rsplit('/').next().unwrap_or(s);
    matches!(last.rsplit_once(':'), Some((_, tag)) if tag != "latest")
}

/// A resource tag key and value (ahi-edge adds its own `ahi-edge:*` tags).
pub fn check_tag(key: &str, value: &str) -> Result<(), String> {
    let allowed = |s: &str| {
        s.chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
    };
    if key.is_empty() || key.chars().count() > 128 {
        return Err("tag keys are 1 to 128 characters".into());
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err("tag keys starting with `aws:` are reserved by AWS".into());
    }
    if key.starts_with("ahi-edge:") {
        return Err("tag keys starting with `ahi-edge:` are reserved for ahi-edge's ownership tags".into());
    }
    if value.chars().count() > 256 {
        return Err("tag values are at most 256 characters".into());
    }
    if !allowed(key) || !allowed(value) {
        return Err("tags may hold only letters, digits, spaces and _ . : / = + - @".into());
    }
    Ok(())
}

pub fn is_vpc_id(s: &str) -> bool {
    aws_id(s, "vpc-")
}

pub fn is_subnet_id(s: &str) -> bool {
    aws_id(s, "subnet-")
}

fn aws_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|hex| {
        (8..=17).contains(&hex.len())
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns() {
        let ok = "arn:aws:acm:us-east-1:123456789012:certificate/0b9c1b6e-1c1f-4a5e-9d7e-2d3f4a5b6c7d";
        assert_eq!(check_acm_certificate_arn(ok, "us-east-1"), Ok(()));
        assert_eq!(
            check_acm_certificate_arn(ok, "eu-west-1").unwrap_err(),
            "is in region us-east-1, but it must be in eu-west-1"
        );
        assert!(
            check_acm_certificate_arn("arn:aws:iam::123456789012:role/x", "us-east-1")
                .unwrap_err()
                .contains("iam ARN")
        );
        assert!(parse_arn("nope").is_err());
        assert!(
            parse_arn("arn:aws:acm:us-east-1:1234:certificate/x")
                .unwrap_err()
                .contains("12-digit")
        );
        assert!(
            check_cloudfront_web_acl_arn("arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/1a2b")
                .is_ok()
        );
        assert!(
            check_cloudfront_web_acl_arn("arn:aws:wafv2:us-east-1:123456789012:regional/webacl/edge/1a2b")
                .is_err()
        );
    }

    #[test]
    fn cognito_ids() {
        assert_eq!(check_user_pool_id("us-east-1_Ab12Cd34E"), Ok("us-east-1"));
        assert!(check_user_pool_id("useast1Ab12").is_err());
        assert!(
            check_user_pool_id("mars-1_Ab12")
                .unwrap_err()
                .contains("not an AWS region")
        );
        assert!(check_user_pool_id("us-east-1_Ab-12").is_err());
        assert!(
            check_user_pool_id(&format!("us-east-1_{}", "a".repeat(50)))
                .unwrap_err()
                .contains("at most 55")
        );
        assert!(check_client_id("4fr9qmc1oba52s6hrfl5hntu2u").is_ok());
        assert!(check_client_id(&"a".repeat(129)).is_err());
        assert!(check_client_id("has space").is_err());
    }

    #[test]
    fn dns_and_headers() {
        assert!(check_dns_name("images.example.com", true).is_ok());
        assert!(check_dns_name("*.example.com", true).is_ok());
        assert!(check_dns_name("*.example.com", false).is_err());
        assert!(check_dns_name("localhost", true).is_err());
        assert!(check_dns_name("bad_label.example.com", true).is_err());
        assert!(check_dns_name("-x.example.com", true).is_err());
        assert!(check_header_name("Authorization").is_ok());
        assert!(check_header_name("x-amz-date").is_ok());
        assert!(check_header_name("bad header").is_err());
        assert!(check_header_name("a:b").is_err());
    }

    #[test]
    fn fargate_sizes() {
        assert_eq!(fargate_memory_options(256), Some(vec![512, 1024, 2048]));
        assert_eq!(fargate_memory_options(512).unwrap(), vec![1024, 2048, 3072, 4096]);
        assert!(fargate_memory_options(8192).unwrap().contains(&20480));
        assert!(!fargate_memory_options(8192).unwrap().contains(&17408));
        assert_eq!(fargate_memory_options(300), None);
    }

    #[test]
    fn images() {
        assert!(check_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/ahi-regional-proxy:0.1.0").is_ok());
        assert!(check_image("localhost:5000/proxy:1").is_ok());
        assert!(check_image("public.ecr.aws/x/proxy@sha256:".to_string().as_str()).is_err());
        assert!(check_image("Proxy:1").is_err());
        assert!(check_image("proxy image").is_err());
        assert!(image_is_pinned("proxy:1.2"));
        assert!(!image_is_pinned("proxy:latest"));
        assert!(!image_is_pinned("localhost:5000/proxy"));
    }

    #[test]
    fn tags_and_ids() {
        assert!(check_tag("team", "imaging").is_ok());
        assert!(check_tag("aws:x", "y").is_err());
        assert!(check_tag("ahi-edge:stack", "y").is_err());
        assert!(check_tag("k", "semi;colon").is_err());
        assert!(is_vpc_id("vpc-0abc1234"));
        assert!(!is_vpc_id("vpc-XYZ"));
        assert!(is_subnet_id("subnet-0123456789abcdef0"));
    }
}
