//! The second auth layer: the same rules as the edge authorizer (signature
//! via a cached JWKS, exp/nbf, issuer, token_use, client id / audience), so
//! a request that reaches the ALB some other way is still checked.
//! Tokens are never logged.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use http::HeaderMap;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::Value;
use tokio::sync::{Mutex, RwLock};

use crate::config::AuthConfig;

/// Do not refetch the JWKS for unknown key ids more often than this.
const REFETCH_INTERVAL: Duration = Duration::from_secs(10);
const MAX_TOKEN: usize = 8192;

pub struct Authenticator {
    config: AuthConfig,
    http: reqwest::Client,
    keys: RwLock<HashMap<String, (DecodingKey, Algorithm)>>,
    last_fetch: Mutex<Option<Instant>>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Denied {
    Missing,
    Invalid(String),
}

impl Authenticator {
    pub fn new(config: AuthConfig) -> Self {
        Authenticator {
            config,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(3))
                .build()
                .expect("an HTTP client with default TLS settings"),
            keys: RwLock::new(HashMap::new()),
            last_fetch: Mutex::new(None),
        }
    }

    pub fn enabled(&self) -> bool {
        !matches!(self.config, AuthConfig::None)
    }

    pub async fn check(&self, headers: &HeaderMap) -> Result<(), Denied> {
        let (issuer, jwks_url) = match &self.config {
            AuthConfig::None => return Ok(()),
            AuthConfig::Cognito { issuer, jwks_url, .. } | AuthConfig::Oidc { issuer, jwks_url, .. } => {
                (issuer, jwks_url)
            }
        };
        let token = bearer(headers)?;
        let header = decode_header(token).map_err(|e| Denied::Invalid(format!("header: {e}")))?;
        let kid = header.kid.ok_or_else(|| Denied::Invalid("no kid".into()))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512) {
            return Err(Denied::Invalid(format!(
                "algorithm {:?} not accepted",
                header.alg
            )));
        }
        let (key, alg) = self.key(&kid, jwks_url).await?;
        if alg != header.alg {
            return Err(Denied::Invalid("algorithm does not match the key".into()));
        }
        let mut validation = Validation::new(alg);
        validation.leeway = 5;
        validation.validate_nbf = true;
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        match &self.config {
            AuthConfig::Oidc { audiences, .. } => validation.set_audience(audiences),
            _ => validation.validate_aud = false,
        }
        let claims = decode::<Value>(token, &key, &validation)
            .map_err(|e| Denied::Invalid(format!("{:?}", e.kind())))?
            .claims;
        if let AuthConfig::Cognito {
            client_ids,
            token_use,
            ..
        } = &self.config
        {
            cognito_claims(&claims, client_ids, token_use)?;
        }
        Ok(())
    }

    async fn key(&self, kid: &str, jwks_url: &str) -> Result<(DecodingKey, Algorithm), Denied> {
        if let Some(found) = self.keys.read().await.get(kid) {
            return Ok(found.clone());
        }
        {
            let mut last = self.last_fetch.lock().await;
            if last.is_some_and(|t| t.elapsed() < REFETCH_INTERVAL) {
                return Err(Denied::Invalid("unknown kid".into()));
            }
            *last = Some(Instant::now());
            let fetched = self.fetch(jwks_url).await?;
            *self.keys.write().await = fetched;
        }
        self.keys
            .read()
            .await
            .get(kid)
            .cloned()
            .ok_or_else(|| Denied::Invalid("unknown kid".into()))
    }

    async fn fetch(&self, url: &str) -> Result<HashMap<String, (DecodingKey, Algorithm)>, Denied> {
        let failed = |e: String| Denied::Invalid(format!("JWKS unavailable: {e}"));
        let set: JwkSet = self
            .http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| failed(e.to_string()))?
            .json()
            .await
            .map_err(|e| failed(e.to_string()))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk)) else {
                continue;
            };
            let alg = match jwk.common.key_algorithm.map(|a| format!("{a:?}")).as_deref() {
                Some("RS384") => Algorithm::RS384,
                Some("RS512") => Algorithm::RS512,
                _ => Algorithm::RS256,
            };
            keys.insert(kid, (key, alg));
        }
        Ok(keys)
    }
}

/// `Authorization: Bearer <jwt>`, exactly one header; anything else is malformed.
fn bearer(headers: &HeaderMap) -> Result<&str, Denied> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next().ok_or(Denied::Missing)?;
    if values.next().is_some() {
        return Err(Denied::Invalid("more than one Authorization header".into()));
    }
    let value = value
        .to_str()
        .map_err(|_| Denied::Invalid("Authorization is not text".into()))?
        .trim();
    let (scheme, token) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    let token = token.trim();
    let well_formed = scheme.eq_ignore_ascii_case("bearer")
        && !token.is_empty()
        && token.len() <= MAX_TOKEN
        && token.split('.').count() == 3
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if well_formed {
        Ok(token)
    } else {
        Err(Denied::Invalid("Authorization is not 'Bearer <jwt>'".into()))
    }
}

fn cognito_claims(claims: &Value, client_ids: &[String], token_use: &str) -> Result<(), Denied> {
    if claims["token_use"] != token_use {
        return Err(Denied::Invalid(format!("token_use is not {token_use}")));
    }
    if client_ids.is_empty() {
        return Ok(());
    }
    // Access tokens name their app client in client_id, id tokens in aud.
    let client = if token_use == "access" {
        &claims["client_id"]
    } else {
        &claims["aud"]
    };
    match client.as_str() {
        Some(c) if client_ids.iter().any(|id| id == c) => Ok(()),
        _ => Err(Denied::Invalid("client not allowed".into())),
    }
}
