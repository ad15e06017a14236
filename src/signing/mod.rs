//! CloudFront signed URLs and signed cookies (`ahi-edge sign`), and the
//! offline check of the public keys a profile names (`pem`).
//!
//! CloudFront verifies an RSA PKCS#1 v1.5 signature over SHA-1 of the
//! policy JSON (canned: the URL and an expiry; custom: also a start time
//! and an IP range), carried in CloudFront's URL-safe base64. The signature
//! is made by AWS-LC (the `aws-lc-sys` crate, the library the AWS SDK's TLS
//! already links): `aws-lc-rs` offers SHA-1 RSA for verification only, and
//! no pure-Rust RSA crate is available to this build. The private key is
//! read from the file the user names, used once, and never printed.

pub mod pem;
mod rsa;

use base64::Engine;
use serde::Serialize;

/// CloudFront's variant of base64: `+` -> `-`, `=` -> `_`, `/` -> `~`.
pub fn cloudfront_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .replace('+', "-")
        .replace('=', "_")
        .replace('/', "~")
}

/// What a signature allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// The URL (or a `*` pattern, custom policies only) the signature covers.
    pub resource: String,
    /// Epoch seconds after which CloudFront refuses it.
    pub expires: u64,
    /// Custom policy only: not before this (epoch seconds).
    pub starts: Option<u64>,
    /// Custom policy only: the viewer's address range (`192.0.2.0/24`).
    pub ip_range: Option<String>,
    /// Sign a custom policy even with no condition beyond the expiry.
    pub custom: bool,
}

impl Grant {
    /// A canned policy: one URL, an expiry, nothing else.
    pub fn is_canned(&self) -> bool {
        !self.custom && self.starts.is_none() && self.ip_range.is_none() && !self.resource.contains('*')
    }

    /// The policy JSON exactly as signed (CloudFront's documented form, no
    /// spaces).
    pub fn policy(&self) -> String {
        let mut condition = format!("\"DateLessThan\":{{\"AWS:EpochTime\":{}}}", self.expires);
        if let Some(ip) = &self.ip_range {
            condition.push_str(&format!(
                ",\"IpAddress\":{{\"AWS:SourceIp\":{}}}",
                json_string(ip)
            ));
        }
        if let Some(start) = self.starts {
            condition.push_str(&format!(",\"DateGreaterThan\":{{\"AWS:EpochTime\":{start}}}"));
        }
        format!(
            "{{\"Statement\":[{{\"Resource\":{},\"Condition\":{{{condition}}}}}]}}",
            json_string(&self.resource)
        )
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// A signature's parts, as URL query parameters or cookie values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signed {
    /// `None` for a canned policy (CloudFront rebuilds it from the URL).
    pub policy: Option<String>,
    pub expires: Option<u64>,
    pub signature: String,
    pub key_pair_id: String,
}

/// Signs `grant` with the PEM private key (PKCS#8 or PKCS#1).
pub fn sign(grant: &Grant, private_key_pem: &str, key_pair_id: &str) -> Result<Signed, String> {
    let policy = grant.policy();
    let signature = rsa::sign_sha1(private_key_pem, policy.as_bytes())?;
    Ok(Signed {
        policy: (!grant.is_canned()).then(|| cloudfront_base64(policy.as_bytes())),
        expires: grant.is_canned().then_some(grant.expires),
        signature: cloudfront_base64(&signature),
        key_pair_id: key_pair_id.to_string(),
    })
}

impl Signed {
    /// `url` with the signature's query parameters appended.
    pub fn url(&self, url: &str) -> String {
        let sep = if url.contains('?') { '&' } else { '?' };
        let head = match (&self.policy, self.expires) {
            (Some(p), _) => format!("Policy={p}"),
            (None, Some(e)) => format!("Expires={e}"),
            (None, None) => String::new(),
        };
        format!(
            "{url}{sep}{head}&Signature={}&Key-Pair-Id={}",
            self.signature, self.key_pair_id
        )
    }

    /// The three `Set-Cookie` values (name, value) for signed cookies.
    pub fn cookies(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        match (&self.policy, self.expires) {
            (Some(p), _) => out.push(("CloudFront-Policy".to_string(), p.clone())),
            (None, Some(e)) => out.push(("CloudFront-Expires".to_string(), e.to_string())),
            _ => {}
        }
        out.push(("CloudFront-Signature".into(), self.signature.clone()));
        out.push(("CloudFront-Key-Pair-Id".into(), self.key_pair_id.clone()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_and_custom_policies_are_cloudfronts_documented_json() {
        let canned = Grant {
            resource: "https://d111.cloudfront.net/a.pdf".into(),
            expires: 1_900_000_000,
            starts: None,
            ip_range: None,
            custom: false,
        };
        assert!(canned.is_canned());
        assert_eq!(
            canned.policy(),
            r#"{"Statement":[{"Resource":"https://d111.cloudfront.net/a.pdf","Condition":{"DateLessThan":{"AWS:EpochTime":1900000000}}}]}"#
        );
        let custom = Grant {
            resource: "https://d111.cloudfront.net/storage/*".into(),
            starts: Some(1_800_000_000),
            ip_range: Some("192.0.2.0/24".into()),
            ..canned.clone()
        };
        assert!(!custom.is_canned());
        assert!(
            custom
                .policy()
                .contains(r#""IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}"#)
        );
        assert_eq!(cloudfront_base64(&[0xfb, 0xff]), "-~8_");
    }

    #[test]
    fn a_signature_is_2048_bits_and_the_private_key_is_checked() {
        let key = include_str!("../../tests/cli/fixtures/signer-a.pem");
        let grant = Grant {
            resource: "https://d.example/x".into(),
            expires: 2_000_000_000,
            starts: None,
            ip_range: None,
            custom: false,
        };
        let signed = sign(&grant, key, "K1").unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(
                signed
                    .signature
                    .replace('-', "+")
                    .replace('_', "=")
                    .replace('~', "/"),
            )
            .unwrap();
        assert_eq!(raw.len(), 256);
        assert_eq!(
            signed,
            sign(&grant, key, "K1").unwrap(),
            "PKCS#1 v1.5 is deterministic"
        );
        let url = signed.url("https://d.example/x");
        assert!(
            url.starts_with("https://d.example/x?Expires=2000000000&Signature="),
            "{url}"
        );
        assert!(url.ends_with("&Key-Pair-Id=K1"));
        assert!(
            sign(
                &grant,
                include_str!("../../tests/cli/fixtures/signer-a.pub.pem"),
                "K1"
            )
            .is_err()
        );
    }
}
