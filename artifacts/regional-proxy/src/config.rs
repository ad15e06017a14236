//! Configuration from the environment (the ECS task definition sets it).
//! Every problem names the variable, the value and what would be valid, and
//! the proxy refuses to start.

use std::fmt;

use crate::operation::{Operation, is_id};

pub const HEALTHIMAGING_REGIONS: &[&str] = &["us-east-1", "us-west-2", "ap-southeast-2", "eu-west-1"];

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub region: String,
    pub upstream: Upstream,
    pub auth: AuthConfig,
    pub log_level: String,
    pub port: u16,
    pub cache: CacheLifetimes,
    /// How long to wait for HealthImaging's response headers before a 504.
    pub upstream_timeout_ms: u64,
    /// The origin header check; `None` when no value is configured.
    pub origin: Option<crate::origin::OriginCheck>,
    /// The data stores and operations this deployment serves.
    pub scope: Scope,
}

/// What the proxy may reach: `DATASTORES` and `OPERATIONS` (the profile's
/// `[healthimaging]` lists); anything else is refused before signing.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub datastores: Vec<String>,
    pub operations: Vec<Operation>,
}

/// Where HealthImaging calls go. AWS serves every image-set operation (all
/// the proxy passes on) from the `runtime-` host; the control host serves
/// data store and import job operations.
#[derive(Debug, Clone, PartialEq)]
pub struct Upstream {
    pub runtime: String,
    pub control: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AuthConfig {
    None,
    Cognito {
        user_pool_id: String,
        /// Accepted app clients; empty means any client of the pool.
        client_ids: Vec<String>,
        token_use: String,
        issuer: String,
        jwks_url: String,
    },
    Oidc {
        issuer: String,
        jwks_url: String,
        audiences: Vec<String>,
    },
}

/// `Cache-Control` max-age per kind of answer, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CacheLifetimes {
    /// Image frames never change.
    pub frame: u64,
    /// Metadata or image sets requested with `?version=` never change.
    pub versioned: u64,
    /// Latest metadata / image set: may change when the image set is updated.
    pub latest: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: Option<String>,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{} = {v:?}: {}", self.variable, self.problem),
            None => write!(f, "{} is not set: {}", self.variable, self.problem),
        }
    }
}

impl std::error::Error for ConfigError {}

fn error(variable: &'static str, value: Option<&str>, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        value: value.map(str::to_string),
        problem: problem.into(),
    }
}

impl Config {
    /// Reads the configuration through `get` (the environment in `main`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let region = var("AHI_REGION")
            .ok_or_else(|| error("AHI_REGION", None, "set it to the HealthImaging region"))?;
        if !HEALTHIMAGING_REGIONS.contains(&region.as_str()) {
            return Err(error(
                "AHI_REGION",
                Some(&region),
                format!(
                    "not a HealthImaging region; use one of {}",
                    HEALTHIMAGING_REGIONS.join(", ")
                ),
            ));
        }
        let upstream = match var("AHI_ENDPOINT") {
            Some(url) => {
                check_url("AHI_ENDPOINT", &url, true)?;
                let url = url.trim_end_matches('/').to_string();
                Upstream {
                    runtime: url.clone(),
                    control: url,
                }
            }
            None => Upstream {
                runtime: format!("https://runtime-medical-imaging.{region}.amazonaws.com"),
                control: format!("https://medical-imaging.{region}.amazonaws.com"),
            },
        };
        let auth = auth_from_env(&var)?;
        let log_level = var("PROXY_LOG_LEVEL")
            .unwrap_or_else(|| "info".into())
            .to_ascii_lowercase();
        if !["error", "warn", "info", "debug", "trace"].contains(&log_level.as_str()) {
            return Err(error(
                "PROXY_LOG_LEVEL",
                Some(&log_level),
                "use error, warn, info, debug or trace",
            ));
        }
        // 0 asks the OS for any free port (tests); the log line says which.
        let port = number(&var, "PORT", 8080, 0, 65535)? as u16;
        let cache = CacheLifetimes {
            frame: number(&var, "CACHE_MAX_AGE_FRAME", 31_536_000, 0, 31_536_000)?,
            versioned: number(&var, "CACHE_MAX_AGE_VERSIONED", 31_536_000, 0, 31_536_000)?,
            latest: number(&var, "CACHE_MAX_AGE_LATEST", 60, 0, 31_536_000)?,
        };
        let upstream_timeout_ms = number(&var, "UPSTREAM_TIMEOUT_MS", 30_000, 100, 600_000)?;
        let scope = scope_from_env(&var)?;
        Ok(Config {
            region,
            upstream,
            auth,
            log_level,
            port,
            cache,
            upstream_timeout_ms,
            origin: crate::origin::OriginCheck::from_env(&var)?,
            scope,
        })
    }
}

/// `DATASTORES` (comma-separated ids, at least one, none twice) and
/// `OPERATIONS` (comma-separated action names, at least one).
fn scope_from_env(var: &impl Fn(&str) -> Option<String>) -> Result<Scope, ConfigError> {
    let items = |name: &str| -> Vec<String> {
        var(name)
            .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default()
    };
    let raw = var("DATASTORES");
    let datastores = items("DATASTORES");
    if datastores.is_empty() {
        return Err(error(
            "DATASTORES",
            None,
            "list the data store ids this proxy serves, comma-separated",
        ));
    }
    for (i, id) in datastores.iter().enumerate() {
        if !is_id(id) {
            return Err(error(
                "DATASTORES",
                raw.as_deref(),
                "each data store id is 32 lower-case letters or digits",
            ));
        }
        if datastores[..i].contains(id) {
            return Err(error(
                "DATASTORES",
                raw.as_deref(),
                "a data store id is listed twice",
            ));
        }
    }
    let raw = var("OPERATIONS");
    let names = items("OPERATIONS");
    if names.is_empty() {
        return Err(error(
            "OPERATIONS",
            None,
            "list the operations this proxy serves, e.g. GetImageFrame,GetImageSetMetadata,GetImageSet",
        ));
    }
    let mut operations = Vec::new();
    for name in &names {
        match Operation::from_name(name) {
            Some(op) if !operations.contains(&op) => operations.push(op),
            Some(_) => {
                return Err(error(
                    "OPERATIONS",
                    raw.as_deref(),
                    "an operation is listed twice",
                ));
            }
            None => {
                let known: Vec<&str> = Operation::ALL.iter().map(|o| o.name()).collect();
                return Err(error(
                    "OPERATIONS",
                    raw.as_deref(),
                    format!(
                        "{name:?} is not an operation the proxy serves; use {}",
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(Scope {
        datastores,
        operations,
    })
}

fn auth_from_env(var: &impl Fn(&str) -> Option<String>) -> Result<AuthConfig, ConfigError> {
    let mode = var("AUTH_MODE").ok_or_else(|| error("AUTH_MODE", None, "use cognito_jwt, oidc or none"))?;
    let list = |name: &str| -> Vec<String> {
        var(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    match mode.as_str() {
        "none" => Ok(AuthConfig::None),
        "cognito_jwt" => {
            let pool = var("COGNITO_USER_POOL_ID").ok_or_else(|| {
                error(
                    "COGNITO_USER_POOL_ID",
                    None,
                    "AUTH_MODE=cognito_jwt needs the user pool id",
                )
            })?;
            let pool_region = pool
                .split_once('_')
                .filter(|(r, id)| {
                    !r.is_empty() && !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())
                })
                .map(|(r, _)| r.to_string())
                .ok_or_else(|| error("COGNITO_USER_POOL_ID", Some(&pool), "expected <region>_<id>"))?;
            let token_use = var("COGNITO_TOKEN_USE").unwrap_or_else(|| "access".into());
            if token_use != "access" && token_use != "id" {
                return Err(error("COGNITO_TOKEN_USE", Some(&token_use), "use access or id"));
            }
            let issuer = format!("https://cognito-idp.{pool_region}.amazonaws.com/{pool}");
            let jwks_url = match var("COGNITO_JWKS_URL") {
                Some(url) => {
                    check_url("COGNITO_JWKS_URL", &url, false)?;
                    url
                }
                None => format!("{issuer}/.well-known/jwks.json"),
            };
            Ok(AuthConfig::Cognito {
                user_pool_id: pool,
                client_ids: list("COGNITO_CLIENT_ID"),
                token_use,
                issuer,
                jwks_url,
            })
        }
        "oidc" => {
            let issuer = var("OIDC_ISSUER")
                .ok_or_else(|| error("OIDC_ISSUER", None, "AUTH_MODE=oidc needs the issuer URL"))?;
            check_url("OIDC_ISSUER", &issuer, false)?;
            let jwks_url = var("OIDC_JWKS_URL")
                .unwrap_or_else(|| format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')));
            check_url("OIDC_JWKS_URL", &jwks_url, false)?;
            let audiences = list("OIDC_AUDIENCE");
            if audiences.is_empty() {
                return Err(error(
                    "OIDC_AUDIENCE",
                    None,
                    "AUTH_MODE=oidc needs the accepted audiences (comma-separated)",
                ));
            }
            Ok(AuthConfig::Oidc {
                issuer,
                jwks_url,
                audiences,
            })
        }
        other => Err(error("AUTH_MODE", Some(other), "use cognito_jwt, oidc or none")),
    }
}

/// https URLs, or http to a loopback address (tests and local emulators).
fn check_url(variable: &'static str, url: &str, allow_http_anywhere: bool) -> Result<(), ConfigError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| error(variable, Some(url), "not a URL"))?;
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host_name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let loopback = matches!(host_name, "127.0.0.1" | "localhost" | "[::1]");
    match scheme {
        _ if host.is_empty() => Err(error(variable, Some(url), "the URL has no host")),
        "https" => Ok(()),
        "http" if loopback || allow_http_anywhere => Ok(()),
        _ => Err(error(variable, Some(url), "must be an https URL")),
    }
}

fn number(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                error(
                    name,
                    Some(&v),
                    format!("expected a whole number from {min} to {max}"),
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const DS: &str = "0123456789abcdef0123456789abcdef";

    fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> = [("DATASTORES", DS), ("OPERATIONS", "GetImageFrame")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Config::from_env(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_aws_endpoints() {
        let c = from(&[("AHI_REGION", "eu-west-1"), ("AUTH_MODE", "none")]).unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!(c.log_level, "info");
        assert_eq!(
            c.upstream.runtime,
            "https://runtime-medical-imaging.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            c.upstream.control,
            "https://medical-imaging.eu-west-1.amazonaws.com"
        );
        assert_eq!(c.cache.latest, 60);
        assert_eq!(c.scope.datastores, [DS]);
        assert_eq!(c.scope.operations, [Operation::GetImageFrame]);
    }

    #[test]
    fn the_scope_lists_are_checked() {
        let base = [("AHI_REGION", "us-east-1"), ("AUTH_MODE", "none")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            from(&pairs)
        };
        let two = format!("{DS}, {}", "f".repeat(32));
        let two: &'static str = Box::leak(two.into_boxed_str());
        let c = with(&[
            ("DATASTORES", two),
            ("OPERATIONS", "GetImageFrame,GetImageSet,SearchImageSets"),
        ])
        .unwrap();
        assert_eq!(c.scope.datastores.len(), 2);
        assert_eq!(
            c.scope.operations,
            [
                Operation::GetImageFrame,
                Operation::GetImageSet,
                Operation::SearchImageSets
            ]
        );
        for (extra, expected) in [
            (("DATASTORES", ""), "DATASTORES is not set"),
            (("DATASTORES", "ABC"), "DATASTORES = \"ABC\": each data store id"),
            (("OPERATIONS", " "), "OPERATIONS is not set"),
            (
                ("OPERATIONS", "DeleteImageSet"),
                "OPERATIONS = \"DeleteImageSet\": \"DeleteImageSet\" is not",
            ),
            (
                ("OPERATIONS", "GetImageSet,GetImageSet"),
                "OPERATIONS = \"GetImageSet,GetImageSet\": an operation is listed twice",
            ),
        ] {
            let message = with(&[extra]).unwrap_err().to_string();
            assert!(
                message.starts_with(expected),
                "{message:?} should start with {expected:?}"
            );
        }
        let twice: &'static str = Box::leak(format!("{DS},{DS}").into_boxed_str());
        assert!(
            with(&[("DATASTORES", twice)])
                .unwrap_err()
                .to_string()
                .contains("listed twice")
        );
    }

    #[test]
    fn cognito_settings() {
        let c = from(&[
            ("AHI_REGION", "us-east-1"),
            ("AUTH_MODE", "cognito_jwt"),
            ("COGNITO_USER_POOL_ID", "us-west-2_Ab12"),
            ("COGNITO_CLIENT_ID", "a, b,"),
        ])
        .unwrap();
        let AuthConfig::Cognito {
            client_ids,
            issuer,
            jwks_url,
            token_use,
            ..
        } = c.auth
        else {
            panic!("cognito");
        };
        assert_eq!(client_ids, ["a", "b"]);
        assert_eq!(
            issuer,
            "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_Ab12"
        );
        assert_eq!(jwks_url, format!("{issuer}/.well-known/jwks.json"));
        assert_eq!(token_use, "access");
    }

    #[test]
    fn every_error_names_the_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("AUTH_MODE", "none")], "AHI_REGION is not set"),
            (
                &[("AHI_REGION", "us-east-2"), ("AUTH_MODE", "none")],
                "AHI_REGION = \"us-east-2\": not a HealthImaging region",
            ),
            (&[("AHI_REGION", "us-east-1")], "AUTH_MODE is not set"),
            (
                &[("AHI_REGION", "us-east-1"), ("AUTH_MODE", "jwt")],
                "AUTH_MODE = \"jwt\"",
            ),
            (
                &[("AHI_REGION", "us-east-1"), ("AUTH_MODE", "cognito_jwt")],
                "COGNITO_USER_POOL_ID is not set",
            ),
            (
                &[
                    ("AHI_REGION", "us-east-1"),
                    ("AUTH_MODE", "cognito_jwt"),
                    ("COGNITO_USER_POOL_ID", "nope"),
                ],
                "COGNITO_USER_POOL_ID = \"nope\": expected <region>_<id>",
            ),
            (
                &[
                    ("AHI_REGION", "us-east-1"),
                    ("AUTH_MODE", "oidc"),
                    ("OIDC_ISSUER", "https://x.example.com"),
                ],
                "OIDC_AUDIENCE is not set",
            ),
            (
                &[
                    ("AHI_REGION", "us-east-1"),
                    ("AUTH_MODE", "oidc"),
                    ("OIDC_ISSUER", "http://x.example.com"),
                    ("OIDC_AUDIENCE", "a"),
                ],
                "OIDC_ISSUER = \"http://x.example.com\": must be an https URL",
            ),
            (
                &[
                    ("AHI_REGION", "us-east-1"),
                    ("AUTH_MODE", "none"),
                    ("PORT", "70000"),
                ],
                "PORT = \"70000\": expected a whole number from 0 to 65535",
            ),
            (
                &[
                    ("AHI_REGION", "us-east-1"),
                    ("AUTH_MODE", "none"),
                    ("PROXY_LOG_LEVEL", "loud"),
                ],
                "PROXY_LOG_LEVEL = \"loud\"",
            ),
            (
                &[
                    ("AHI_REGION", "us-east-1"),
                    ("AUTH_MODE", "none"),
                    ("AHI_ENDPOINT", "nope"),
                ],
                "AHI_ENDPOINT = \"nope\": not a URL",
            ),
        ];
        for (env, expected) in cases {
            let message = from(env).unwrap_err().to_string();
            assert!(
                message.starts_with(expected),
                "{message:?} should start with {expected:?}"
            );
        }
    }
}
