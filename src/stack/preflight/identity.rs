//! The identity provider the authorizer trusts: a Cognito pool and every
//! app client exist in the pool's region; an OIDC issuer publishes a
//! discovery document naming itself exactly as the profile does, and keys
//! of an algorithm the authorizer accepts. Otherwise every viewer would get
//! 401 with nothing in `up`'s output to say why.

use serde_json::Value;

use super::Findings;
use super::fetch::Fetch;
use crate::aws::AwsError;
use crate::engine::clients::Clients;
use crate::error::Error;
use crate::profile::{AuthMode, Cognito, Oidc, Profile};

/// The JWS algorithms the edge authorizer verifies (RSA keys only).
const ACCEPTED: [&str; 3] = ["RS256", "RS384", "RS512"];

pub(super) async fn check(
    clients: &Clients,
    fetch: &Fetch,
    profile: &Profile,
    found: &mut Findings,
) -> Result<(), Error> {
    match profile.delivery.as_ref().map(|d| &d.auth.mode) {
        Some(AuthMode::CognitoJwt(c)) => cognito(clients, c, found).await,
        Some(AuthMode::Oidc(o)) => {
            oidc(fetch, o, found).await;
            Ok(())
        }
        _ => Ok(()),
    }
}

async fn cognito(clients: &Clients, pool: &Cognito, found: &mut Findings) -> Result<(), Error> {
    let idp = clients.cognito(&pool.region);
    let key = format!("auth.cognito.user_pool_id = {:?}", pool.user_pool_id);
    let described = idp
        .describe_user_pool()
        .user_pool_id(&pool.user_pool_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeUserPool", e));
    match described {
        Ok(_) => {}
        Err(e) if e.is_any(&["ResourceNotFoundException", "InvalidParameterException"]) => {
            found.problems.push(format!(
                "{key}: no such user pool in {} ({}) (fix: copy the pool id from the Cognito console; its prefix \
                 is the region it lives in)",
                pool.region, e.message
            ));
            return Ok(());
        }
        Err(e) => return Err(Error::Aws(e)),
    }
    for client_id in &pool.client_ids {
        let described = idp
            .describe_user_pool_client()
            .user_pool_id(&pool.user_pool_id)
            .client_id(client_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeUserPoolClient", e));
        match described {
            Ok(_) => {}
            Err(e) if e.is_any(&["ResourceNotFoundException", "InvalidParameterException"]) => {
                found.problems.push(format!(
                    "auth.cognito.client_ids: {client_id:?} is no app client of pool {} ({}) (fix: list the ids \
                     under the pool's App clients, e.g. `aws cognito-idp list-user-pool-clients --user-pool-id {} \
                     --region {}`)",
                    pool.user_pool_id, e.message, pool.user_pool_id, pool.region
                ));
            }
            Err(e) => return Err(Error::Aws(e)),
        }
    }
    Ok(())
}

async fn oidc(fetch: &Fetch, oidc: &Oidc, found: &mut Findings) {
    let key = format!("auth.oidc.issuer = {:?}", oidc.issuer);
    let discovery_url = format!(
        "{}/.well-known/openid-configuration",
        oidc.issuer.trim_end_matches('/')
    );
    match json(fetch, &discovery_url).await {
        Err(why) => found.problems.push(format!(
            "{key}: its discovery document {discovery_url} {why} (fix: check the issuer URL: it is the `iss` your \
             tokens carry, and the provider publishes /.well-known/openid-configuration under it)"
        )),
        Ok(doc) => {
            let advertised = doc.get("issuer").and_then(Value::as_str).unwrap_or_default();
            if advertised != oidc.issuer {
                found.problems.push(format!(
                    "{key}: the provider names itself {advertised:?} ({discovery_url}), so its tokens carry that \
                     `iss` and the authorizer, which compares it exactly, would refuse every one (fix: set issuer = \
                     {advertised:?})"
                ));
            }
            if let Some(published) = doc.get("jwks_uri").and_then(Value::as_str)
                && published != oidc.jwks_url
            {
                found.notes.push(format!(
                    "auth.oidc.jwks_url: the authorizer reads keys from {} but the issuer publishes them at \
                     {published}; set jwks_url = {published:?} unless the other URL is meant",
                    oidc.jwks_url
                ));
            }
        }
    }
    match json(fetch, &oidc.jwks_url).await {
        Err(why) => found.problems.push(format!(
            "auth.oidc.jwks_url: the keys at {} {why}, so the authorizer could verify no token (fix: set jwks_url \
             to the jwks_uri of the issuer's discovery document)",
            oidc.jwks_url
        )),
        Ok(jwks) => {
            let keys = jwks.get("keys").and_then(Value::as_array).cloned().unwrap_or_default();
            if !keys.iter().any(usable) {
                let held: Vec<String> = keys
                    .iter()
                    .map(|k| {
                        format!(
                            "{} {}",
                            k.get("kty").and_then(Value::as_str).unwrap_or("?"),
                            k.get("alg").and_then(Value::as_str).unwrap_or("(no alg)")
                        )
                    })
                    .collect();
                found.problems.push(format!(
                    "auth.oidc.jwks_url: {} holds no RSA signing key for {} (it holds: {}), the algorithms the \
                     authorizer verifies (fix: have the provider sign tokens with RS256)",
                    oidc.jwks_url,
                    ACCEPTED.join("/"),
                    match held.is_empty() {
                        true => "no keys".to_string(),
                        false => held.join(", "),
                    }
                ));
            }
        }
    }
}

/// A key the authorizer can verify with: RSA, for signing, of an accepted
/// algorithm (or none named, which RS256 tokens then use).
fn usable(key: &Value) -> bool {
    let text = |k: &str| key.get(k).and_then(Value::as_str);
    text("kty") == Some("RSA")
        && text("use").is_none_or(|u| u == "sig")
        && text("alg").is_none_or(|a| ACCEPTED.contains(&a))
        && text("n").is_some()
        && text("e").is_some()
}

/// A JSON document from `url`, or why not, as a phrase after the URL.
async fn json(fetch: &Fetch, url: &str) -> Result<Value, String> {
    let answer = fetch
        .get(url)
        .await
        .map_err(|e| format!("did not answer ({e})"))?;
    if answer.status != 200 {
        return Err(format!("answered HTTP {}", answer.status));
    }
    serde_json::from_slice(&answer.body).map_err(|e| format!("is not JSON ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rsa_signing_keys_of_an_accepted_algorithm_are_usable() {
        let key = |v: Value| usable(&v);
        assert!(key(
            serde_json::json!({"kty": "RSA", "alg": "RS256", "n": "x", "e": "AQAB"})
        ));
        assert!(key(
            serde_json::json!({"kty": "RSA", "use": "sig", "n": "x", "e": "AQAB"})
        ));
        assert!(!key(
            serde_json::json!({"kty": "RSA", "use": "enc", "n": "x", "e": "AQAB"})
        ));
        assert!(!key(
            serde_json::json!({"kty": "RSA", "alg": "PS256", "n": "x", "e": "AQAB"})
        ));
        assert!(!key(
            serde_json::json!({"kty": "EC", "alg": "ES256", "x": "a", "y": "b"})
        ));
        assert!(!key(serde_json::json!({"kty": "RSA", "alg": "RS256"})));
    }
}
