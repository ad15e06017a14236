//! The second auth layer: every JWT failure is a 401 and no upstream call.

use ahi_regional_proxy::config::AuthConfig;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::support::*;

struct Case {
    fake: FakeHealthImaging,
    proxy: String,
}

async fn cognito_proxy() -> Case {
    let (fake, upstream) = fake_healthimaging().await;
    let proxy = proxy(config(&upstream, cognito(&jwks_server().await))).await;
    Case { fake, proxy }
}

impl Case {
    async fn status(&self, authorization: Option<&str>) -> (u16, Option<String>) {
        let mut request = client().get(format!("{}{}?imageFrameId={FRAME}", self.proxy, frame_path()));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let answer = request.send().await.unwrap();
        let challenge = answer
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_string());
        (answer.status().as_u16(), challenge)
    }
}

fn with(changes: Value) -> Value {
    let mut claims = access_claims();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

fn b64(v: &Value) -> String {
    use std::fmt::Write;
    // base64url without padding, by hand to avoid another dependency.
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = v.to_string().into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |acc, b| (acc << 8) | *b as u32) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.write_char(T[((n >> (18 - 6 * i)) & 63) as usize] as char)
                .unwrap();
        }
    }
    out
}

#[tokio::test]
async fn a_valid_access_token_passes() {
    let case = cognito_proxy().await;
    assert_eq!(
        case.status(Some(&format!("Bearer {}", token(&access_claims()))))
            .await
            .0,
        200
    );
    assert_eq!(
        case.status(Some(&format!("bearer   {}  ", token(&access_claims()))))
            .await
            .0,
        200
    );
    let rs384 = token_with(&access_claims(), "test-key-384", Algorithm::RS384);
    assert_eq!(case.status(Some(&format!("Bearer {rs384}"))).await.0, 200);
    assert_eq!(case.fake.received().len(), 3);
}

#[tokio::test]
async fn every_bad_token_is_401_without_an_upstream_call() {
    let case = cognito_proxy().await;
    let valid = token(&access_claims());
    let (head, body, sig) = {
        let mut parts = valid.split('.');
        (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        )
    };
    let hs256 = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("test-key-256".into());
        encode(
            &header,
            &access_claims(),
            &EncodingKey::from_secret(include_bytes!("../fixtures/jwks.json")),
        )
        .unwrap()
    };
    let cases: Vec<(&str, String)> = vec![
        ("expired", token(&with(json!({"exp": now() - 60})))),
        ("not yet valid", token(&with(json!({"nbf": now() + 600})))),
        (
            "wrong issuer",
            token(&with(
                json!({"iss": "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_Other"}),
            )),
        ),
        ("wrong client", token(&with(json!({"client_id": "other-client"})))),
        (
            "id token",
            token(&with(
                json!({"token_use": "id", "aud": CLIENT, "client_id": null}),
            )),
        ),
        ("no exp", token(&with(json!({"exp": null})))),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "kid": "test-key-256"})),
                b64(&access_claims())
            ),
        ),
        ("HS256 with public material", hs256),
        (
            "tampered payload",
            format!("{head}.{}.{sig}", b64(&with(json!({"sub": "admin"})))),
        ),
        (
            "tampered signature",
            format!(
                "{head}.{body}.{}",
                if sig.starts_with('A') {
                    sig.replacen('A', "B", 1)
                } else {
                    format!("A{}", &sig[1..])
                }
            ),
        ),
        (
            "unknown kid",
            token_with(&access_claims(), "no-such-key", Algorithm::RS256),
        ),
        ("garbage", "x".repeat(10_000)),
    ];
    for (name, token) in cases {
        let (status, challenge) = case.status(Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, 401, "{name}");
        assert_eq!(
            challenge.as_deref(),
            Some("Bearer error=\"invalid_token\""),
            "{name}"
        );
    }
    for malformed in ["Bearer", "Basic dXNlcjpwdw==", &format!("Bearer {valid}, ")] {
        assert_eq!(case.status(Some(malformed)).await.0, 401, "{malformed}");
    }
    assert_eq!(case.status(None).await, (401, Some("Bearer".to_string())));
    assert!(
        case.fake.received().is_empty(),
        "no request with a bad token went upstream"
    );
}

#[tokio::test]
async fn an_unreachable_jwks_denies() {
    let (fake, upstream) = fake_healthimaging().await;
    let proxy = proxy(config(&upstream, cognito("http://127.0.0.1:9/jwks.json"))).await;
    let answer = client()
        .get(format!("{proxy}{}?imageFrameId={FRAME}", frame_path()))
        .bearer_auth(token(&access_claims()))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn oidc_checks_the_audience() {
    let (fake, upstream) = fake_healthimaging().await;
    let auth = AuthConfig::Oidc {
        issuer: "https://login.example.com".into(),
        jwks_url: jwks_server().await,
        audiences: vec!["ahi-viewer".into()],
    };
    let proxy = proxy(config(&upstream, auth)).await;
    let claims =
        json!({"iss": "https://login.example.com", "aud": "ahi-viewer", "sub": "u", "exp": now() + 60});
    let send = |t: String| {
        client()
            .get(format!("{proxy}{}?imageFrameId={FRAME}", frame_path()))
            .bearer_auth(t)
            .send()
    };
    assert_eq!(send(token(&claims)).await.unwrap().status(), 200);
    let mut other = claims.clone();
    other["aud"] = json!("someone-else");
    assert_eq!(send(token(&other)).await.unwrap().status(), 401);
    assert_eq!(fake.received().len(), 1);
}
