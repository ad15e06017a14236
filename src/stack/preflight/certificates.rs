//! Certificates: each one the profile names must exist in the region that
//! uses it (CloudFront's in us-east-1, the ALB's in the HealthImaging
//! region), be ISSUED, and cover the names it serves (ACM DescribeCertificate).

use super::Findings;
use crate::aws::{AwsError, EDGE_REGION};
use crate::engine::clients::Clients;
use crate::error::Error;
use crate::profile::{AlbOrigin, Profile};

/// One certificate the profile relies on.
struct Need {
    key: &'static str,
    arn: String,
    region: String,
    /// The names viewers (or CloudFront) reach it by.
    names: Vec<String>,
}

fn needs(profile: &Profile) -> Vec<Need> {
    let mut out = Vec::new();
    if let Some(arn) = &profile.cloudfront.certificate_arn {
        out.push(Need {
            key: "cloudfront.certificate_arn",
            arn: arn.clone(),
            region: EDGE_REGION.to_string(),
            names: profile.cloudfront.aliases.clone(),
        });
    }
    if let Some(AlbOrigin::Https {
        hostname,
        certificate_arn,
    }) = profile.delivery.as_ref().map(|hi| &hi.alb)
    {
        out.push(Need {
            key: "alb.certificate_arn",
            arn: certificate_arn.clone(),
            region: profile.region.clone(),
            names: vec![hostname.clone()],
        });
    }
    out
}

/// Whether a certificate name (`example.com`, `*.example.com`) covers a
/// host name: exactly, or a wildcard for one leftmost label.
pub fn covers(cert_name: &str, host: &str) -> bool {
    let (cert_name, host) = (cert_name.to_ascii_lowercase(), host.to_ascii_lowercase());
    match cert_name.strip_prefix("*.") {
        Some(parent) => {
            host.split_once('.')
                .is_some_and(|(label, rest)| !label.is_empty() && label != "*" && rest == parent)
                || host == cert_name
        }
        None => host == cert_name,
    }
}

/// Every certificate problem, each naming the key, the value and the fix.
pub(super) async fn check(clients: &Clients, profile: &Profile, found: &mut Findings) -> Result<(), Error> {
    let problems = &mut found.problems;
    for need in needs(profile) {
        let answer = clients
            .acm(&need.region)
            .describe_certificate()
            .certificate_arn(&need.arn)
            .send()
            .await;
        let cert = match answer {
            Ok(out) => out.certificate().cloned(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                None
            }
            Err(e) => return Err(Error::Aws(AwsError::from_sdk("DescribeCertificate", e))),
        };
        let Some(cert) = cert else {
            problems.push(format!(
                "{} = {:?}: no such certificate in {} (fix: request or import it there, and name its ARN)",
                need.key, need.arn, need.region
            ));
            continue;
        };
        let status = cert.status().map(|s| s.as_str().to_string()).unwrap_or_default();
        if status != "ISSUED" {
            problems.push(format!(
                "{} = {:?}: the certificate is {status}, not ISSUED (fix: finish its validation in ACM, or name an issued one)",
                need.key, need.arn
            ));
        }
        let mut names: Vec<String> = cert.subject_alternative_names().to_vec();
        names.extend(cert.domain_name().map(str::to_string));
        for host in &need.names {
            if !names.iter().any(|n| covers(n, host)) {
                problems.push(format!(
                    "{} = {:?}: does not cover {host} (it covers {}) (fix: name a certificate for {host}, or add it to the certificate)",
                    need.key,
                    need.arn,
                    if names.is_empty() { "no names".to_string() } else { names.join(", ") }
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label_and_names_ignore_case() {
        assert!(covers("images.example.com", "Images.Example.com"));
        assert!(covers("*.example.com", "images.example.com"));
        assert!(!covers("*.example.com", "a.b.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(!covers("example.com", "images.example.com"));
        assert!(!covers("images.example.com", "images.example.org"));
    }
}
