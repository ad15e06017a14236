//! The Lambda@Edge authorizer package: the committed bundle plus a
//! config.json generated from the profile, zipped deterministically so the
//! same profile always gives the same bytes (and `up` publishes a new
//! version only when code or config really changed).

use std::io::{Cursor, Write};

use serde::Serialize;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::profile::{Auth, AuthMode, CacheScope, Profile, TokenUse};

/// artifacts/edge-authorizer/dist/index.js, built by esbuild from the
/// committed lockfile (CI checks it is reproducible).
pub const BUNDLE: &[u8] = include_bytes!("../artifacts/edge-authorizer/dist/index.js");

/// Lambda@Edge's limit for a viewer-request function's zipped package.
pub const VIEWER_REQUEST_PACKAGE_LIMIT: usize = 1024 * 1024;

/// What the handler reads from config.json (Lambda@Edge has no environment
/// variables). Field order is fixed, so the JSON bytes are stable.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerConfig {
    pub mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    pub jwks_uri: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_ids: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_use: Option<&'static str>,
    pub query_token: bool,
    /// Per-viewer cache: the token goes on (cache key, proxy). Shared
    /// (false): the authorizer removes it once checked.
    pub forward_credentials: bool,
    /// What a HealthImaging request may reach (`/datastore/...` URIs).
    pub healthimaging: Scope,
}

/// The data stores and operations the edge passes on, and the optional
/// token claim that narrows the data stores per viewer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    pub datastores: Vec<String>,
    pub operations: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datastore_claim: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datastore_claim_prefix: Option<String>,
}

impl Scope {
    pub fn from_delivery(hi: &crate::profile::Delivery) -> Scope {
        let claim = hi.auth.datastore_claim.as_ref();
        Scope {
            datastores: hi.healthimaging.datastores.clone(),
            operations: hi.healthimaging.operation_names(),
            datastore_claim: claim.map(|c| c.claim.clone()),
            datastore_claim_prefix: claim.map(|c| c.prefix.clone()),
        }
    }
}

impl AuthorizerConfig {
    /// The authorizer's settings, or `None` when the profile has no authorizer.
    pub fn from_profile(profile: &Profile) -> Option<AuthorizerConfig> {
        // `auth.cors_allow_origins` is not here: the distribution's response
        // headers policy carries it to every response, so a new origin list
        // is one policy update, not a new authorizer version and a
        // distribution deploy. The authorizer's own 401 and preflight answers
        // use its default, `*` (they hold nothing to protect; whether a
        // page may read a 200 is the policy's answer).
        let delivery = profile.delivery.as_ref()?;
        let Auth {
            mode, query_token, ..
        } = &delivery.auth;
        let base = AuthorizerConfig {
            mode: "",
            user_pool_id: None,
            issuer: None,
            jwks_uri: String::new(),
            client_ids: Vec::new(),
            audiences: Vec::new(),
            token_use: None,
            query_token: *query_token,
            forward_credentials: profile.cloudfront.cache == CacheScope::PerViewer,
            healthimaging: Scope::from_delivery(delivery),
        };
        match mode {
            AuthMode::None => None,
            AuthMode::CognitoJwt(c) => Some(AuthorizerConfig {
                mode: "cognito_jwt",
                user_pool_id: Some(c.user_pool_id.clone()),
                jwks_uri: format!(
                    "https://cognito-idp.{}.amazonaws.com/{}/.well-known/jwks.json",
                    c.region, c.user_pool_id
                ),
                client_ids: c.client_ids.clone(),
                token_use: Some(match c.token_use {
                    TokenUse::Access => "access",
                    TokenUse::Id => "id",
                }),
                ..base
            }),
            AuthMode::Oidc(o) => Some(AuthorizerConfig {
                mode: "oidc",
                issuer: Some(o.issuer.clone()),
                jwks_uri: o.jwks_url.clone(),
                audiences: o.audiences.clone(),
                ..base
            }),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error(
        "the package is {size} bytes; Lambda@Edge allows at most {limit} bytes for a viewer-request function"
    )]
    TooLarge { size: usize, limit: usize },
    #[error("building the zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("building the zip: {0}")]
    Io(#[from] std::io::Error),
}

/// The zip: `config.json` and `index.js`, sorted, with a fixed timestamp
/// (1980-01-01), fixed modes and fixed compression.
pub fn package(config: &AuthorizerConfig, bundle: &[u8]) -> Result<Vec<u8>, PackageError> {
    let mut json = serde_json::to_vec_pretty(config).map_err(std::io::Error::other)?;
    json.push(b'\n');
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in [("config.json", json.as_slice()), ("index.js", bundle)] {
        zip.start_file(name, options)?;
        zip.write_all(bytes)?;
    }
    let bytes = zip.finish()?.into_inner();
    if bytes.len() > VIEWER_REQUEST_PACKAGE_LIMIT {
        return Err(PackageError::TooLarge {
            size: bytes.len(),
            limit: VIEWER_REQUEST_PACKAGE_LIMIT,
        });
    }
    Ok(bytes)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AuthorizerConfig {
        AuthorizerConfig {
            mode: "cognito_jwt",
            user_pool_id: Some("us-east-1_Ab12Cd34E".into()),
            issuer: None,
            jwks_uri: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E/.well-known/jwks.json"
                .into(),
            client_ids: vec!["client-a".into()],
            audiences: vec![],
            token_use: Some("access"),
            query_token: false,
            forward_credentials: false,
            healthimaging: Scope {
                datastores: vec!["d".repeat(32)],
                operations: vec!["GetImageFrame"],
                datastore_claim: None,
                datastore_claim_prefix: None,
            },
        }
    }

    #[test]
    fn config_json_carries_the_profiles_scope() {
        let text = include_str!("../profiles/ahi-delivery.toml").replace(
            "# datastore_claim = \"cognito:groups\"\n# datastore_claim_prefix",
            "datastore_claim = \"cognito:groups\"\ndatastore_claim_prefix",
        );
        let profile = crate::profile::check(std::path::Path::new("p.toml"), &text)
            .profile
            .expect("valid");
        let json = serde_json::to_value(AuthorizerConfig::from_profile(&profile).unwrap()).unwrap();
        assert_eq!(
            json["healthimaging"],
            serde_json::json!({
                "datastores": ["d".repeat(32)],
                "operations": ["GetImageFrame", "GetImageSetMetadata", "GetImageSet"],
                "datastoreClaim": "cognito:groups",
                "datastoreClaimPrefix": "ahi-datastore-",
            })
        );
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        let a = package(&config(), BUNDLE).unwrap();
        let b = package(&config(), BUNDLE).unwrap();
        assert_eq!(a, b);
        let mut other = config();
        other.client_ids = vec!["client-b".into()];
        assert_ne!(package(&other, BUNDLE).unwrap(), a);
    }

    #[test]
    fn a_package_over_the_viewer_request_limit_is_refused() {
        // Incompressible bytes, so the zip stays over the limit.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise: Vec<u8> = (0..1_100_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let err = package(&config(), &noise).unwrap_err();
        assert!(
            err.to_string()
                .contains("Lambda@Edge allows at most 1048576 bytes"),
            "{err}"
        );
    }
}
