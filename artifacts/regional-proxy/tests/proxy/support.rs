//! The fake HealthImaging upstream, a JWKS server, tokens, and the proxy
//! started in-process against them.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ahi_regional_proxy::config::{AuthConfig, CacheLifetimes, Config, Scope, Upstream as Endpoints};
use ahi_regional_proxy::operation::Operation;
use ahi_regional_proxy::{AppState, app, auth, upstream};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use http::{HeaderMap, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

pub const ACCESS_KEY: &str = "AKIDEXAMPLEPROXYTEST";
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub const REGION: &str = "us-west-2";
pub const DS: &str = "0123456789abcdef0123456789abcdef";
/// A well-formed data store id the proxy's scope does not list.
pub const FOREIGN_DS: &str = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0";
pub const IS: &str = "fedcba9876543210fedcba9876543210";
pub const FRAME: &str = "aaaabbbbccccddddeeeeffff00001111";
/// A frame the fake upstream answers only after a long pause.
pub const SLOW_FRAME: &str = "5104000000000000000000000000000f";
/// A frame the fake upstream answers without a content type.
pub const BARE_FRAME: &str = "ba1e000000000000000000000000000f";
/// The account and task role the fake upstream's errors name, as
/// HealthImaging's AccessDeniedException does: never for a viewer's eyes.
pub const ACCOUNT: &str = "123456789012";
pub const ROLE: &str = "acme-ahi-proxy-task";

/// An image set the fake upstream refuses with `status`, the way
/// HealthImaging would (`failing_set(404)`: an image set it does not know).
pub fn failing_set(status: u16) -> String {
    format!("{status:032}")
}

/// HealthImaging's error for `status`: its type and an AWS-shaped body
/// naming the account and the caller's role.
fn healthimaging_error(status: u16, operation: &str) -> Response {
    let error_type = match status {
        400 => "ValidationException",
        403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        409 => "ConflictException",
        429 => "ThrottlingException",
        503 => "ServiceUnavailableException",
        _ => "InternalServerException",
    };
    let message = format!(
        "User: arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/7f3c2a is not authorized to perform: \
         medical-imaging:{operation} on resource: arn:aws:medical-imaging:{REGION}:{ACCOUNT}:datastore/{DS}"
    );
    let body = json!({"__type": error_type, "message": message}).to_string();
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amzn-errortype",
            format!("{error_type}:http://internal.amazon.com/coral/com.amazon.coral.service/"),
        )
        .header("x-amzn-requestid", "0f6e7a52-0000-4000-8000-000000000000");
    let body = if status >= 500 {
        // Compressed, as an upstream may: the viewer must not get its encoding either.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(body.as_bytes()).unwrap();
        response = response.header("content-encoding", "gzip");
        Body::from(gz.finish().unwrap())
    } else {
        Body::from(body)
    };
    response.body(body).unwrap()
}
pub const POOL: &str = "us-west-2_TestPool9";
pub const CLIENT: &str = "proxy-client";

/// One request as the fake HealthImaging received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path_and_query: String,
    pub headers: HashMap<String, String>,
    pub body: Bytes,
    /// Whether the SigV4 signature recomputed from the wire matched.
    pub signature_ok: Result<(), String>,
}

#[derive(Clone, Default)]
pub struct FakeHealthImaging {
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Frame id -> size in bytes served for it (default 1 KiB).
    pub frame_sizes: Arc<Mutex<HashMap<String, usize>>>,
}

impl FakeHealthImaging {
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}")
}

pub async fn fake_healthimaging() -> (FakeHealthImaging, String) {
    let fake = FakeHealthImaging::default();
    let url = serve(Router::new().fallback(healthimaging).with_state(fake.clone())).await;
    (fake, url)
}

/// Deterministic frame bytes, so a client can check what it got.
pub fn frame_byte(i: usize) -> u8 {
    (i % 251) as u8
}

async fn healthimaging(State(fake): State<FakeHealthImaging>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 1 << 20).await.unwrap();
    let headers: HashMap<String, String> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let signature_ok = verify_signature(parts.method.as_str(), &path_and_query, &parts.headers, &body);
    fake.received.lock().unwrap().push(Received {
        method: parts.method.to_string(),
        path_and_query: path_and_query.clone(),
        headers,
        body: body.clone(),
        signature_ok: signature_ok.clone(),
    });
    if let Err(why) = signature_ok {
        return (StatusCode::FORBIDDEN, Json(json!({"message": why}))).into_response();
    }
    let path = parts.uri.path();
    let segments: Vec<&str> = path.split('/').collect();
    if let ["", "datastore", _, "imageSet", set, operation] = segments.as_slice()
        && let Some(status) = (100..600u16).find(|s| failing_set(*s) == *set)
    {
        let mut action = operation.to_string();
        action[..1].make_ascii_uppercase();
        return healthimaging_error(status, &action);
    }
    if path.ends_with("/getImageFrame") {
        let request: Value = serde_json::from_slice(&body).unwrap_or_default();
        let frame = request["imageFrameId"].as_str().unwrap_or_default().to_string();
        if frame == SLOW_FRAME {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        let size = fake
            .frame_sizes
            .lock()
            .unwrap()
            .get(&frame)
            .copied()
            .unwrap_or(1024);
        let chunks = (0..size).step_by(64 * 1024).map(move |start| {
            let end = (start + 64 * 1024).min(size);
            Ok::<_, std::io::Error>(Bytes::from((start..end).map(frame_byte).collect::<Vec<u8>>()))
        });
        let mut response = Response::builder().status(200).header("content-length", size);
        if frame != BARE_FRAME {
            response = response.header("content-type", "application/octet-stream");
        }
        return response.body(Body::from_stream(stream::iter(chunks))).unwrap();
    }
    if path.ends_with("/getImageSetMetadata") {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(br#"{"SchemaVersion":"1.1","Patient":{}}"#).unwrap();
        return Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(Body::from(gz.finish().unwrap()))
            .unwrap();
    }
    Json(json!({"ok": true, "path": path})).into_response()
}

struct Json(Value);

impl IntoResponse for Json {
    fn into_response(self) -> Response {
        ([("content-type", "application/json")], self.0.to_string()).into_response()
    }
}

/// Recomputes the SigV4 signature from what arrived on the wire, with the
/// known static credentials, and compares it with the one sent.
fn verify_signature(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let authorization = header("authorization");
    let rest = authorization
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not SigV4")?;
    let field = |name: &str| {
        rest.split(", ")
            .find_map(|part| part.strip_prefix(&format!("{name}=")))
            .unwrap_or_default()
            .to_string()
    };
    let scope = field("Credential");
    let expected_scope_tail = format!("/{REGION}/medical-imaging/aws4_request");
    if !scope.starts_with(&format!("{ACCESS_KEY}/")) || !scope.ends_with(&expected_scope_tail) {
        return Err(format!("wrong credential scope {scope}"));
    }
    let signed: Vec<String> = field("SignedHeaders").split(';').map(str::to_string).collect();
    for required in ["host", "x-amz-date"] {
        if !signed.iter().any(|h| h == required) {
            return Err(format!("{required} is not signed"));
        }
    }
    let time = parse_amz_date(header("x-amz-date")).ok_or("bad x-amz-date")?;
    let wire_headers: Vec<(String, String)> = signed
        .iter()
        .filter(|h| *h != "x-amz-date" && *h != "x-amz-security-token")
        .map(|h| (h.clone(), header(h).to_string()))
        .collect();
    let identity = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("medical-imaging")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let uri = format!("http://{}{path_and_query}", header("host"));
    let signable = SignableRequest::new(
        method,
        &uri,
        wire_headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| e.to_string())?;
    let (_, signature) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    if signature == field("Signature") {
        Ok(())
    } else {
        Err("SignatureDoesNotMatch".into())
    }
}

fn parse_amz_date(s: &str) -> Option<SystemTime> {
    // YYYYMMDDTHHMMSSZ
    if s.len() != 16 {
        return None;
    }
    let n = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, m, d) = (n(0, 4)?, n(4, 6)?, n(6, 8)?);
    let (hh, mm, ss) = (n(9, 11)?, n(11, 13)?, n(13, 15)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

// ---- JWKS and tokens -------------------------------------------------------

pub async fn jwks_server() -> String {
    let jwks: Value = serde_json::from_str(include_str!("../fixtures/jwks.json")).unwrap();
    let router = Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move { Json(jwks) }
        }),
    );
    format!("{}/jwks.json", serve(router).await)
}

pub fn issuer() -> String {
    format!("https://cognito-idp.us-west-2.amazonaws.com/{POOL}")
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

pub fn access_claims() -> Value {
    json!({
        "sub": "user-1", "iss": issuer(), "client_id": CLIENT, "token_use": "access",
        "iat": now() - 10, "exp": now() + 3600,
    })
}

pub fn token_with(claims: &Value, kid: &str, alg: Algorithm) -> String {
    let key = EncodingKey::from_rsa_pem(include_bytes!("../fixtures/jwt-signing-key.pem")).unwrap();
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_string());
    encode(&header, claims, &key).unwrap()
}

pub fn token(claims: &Value) -> String {
    token_with(claims, "test-key-256", Algorithm::RS256)
}

// ---- the proxy -------------------------------------------------------------

/// The proxy's config with `upstream` as the runtime host. The control host
/// is an address nothing answers: an image-set call sent there would fail.
pub fn config(upstream: &str, auth: AuthConfig) -> Config {
    with_hosts(upstream, "http://127.0.0.1:9", auth)
}

pub fn with_hosts(runtime: &str, control: &str, auth: AuthConfig) -> Config {
    Config {
        region: REGION.to_string(),
        upstream: Endpoints {
            runtime: runtime.to_string(),
            control: control.to_string(),
        },
        auth,
        log_level: "warn".into(),
        port: 0,
        cache: CacheLifetimes {
            frame: 31_536_000,
            versioned: 31_536_000,
            latest: 60,
        },
        upstream_timeout_ms: 1000,
        origin: None,
        scope: Scope {
            datastores: vec![DS.to_string()],
            operations: Operation::ALL.to_vec(),
        },
    }
}

pub fn cognito(jwks_url: &str) -> AuthConfig {
    AuthConfig::Cognito {
        user_pool_id: POOL.into(),
        client_ids: vec![CLIENT.into()],
        token_use: "access".into(),
        issuer: issuer(),
        jwks_url: jwks_url.into(),
    }
}

/// Starts the proxy with static credentials; returns its base URL.
pub async fn proxy(config: Config) -> String {
    let credentials =
        SharedCredentialsProvider::new(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test"));
    let state = Arc::new(AppState {
        auth: auth::Authenticator::new(config.auth.clone()),
        upstream: upstream::Upstream::new(upstream::CachedCredentials::new(credentials)),
        config,
    });
    serve(app(state)).await
}

pub fn frame_path() -> String {
    format!("/datastore/{DS}/imageSet/{IS}/getImageFrame")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}
