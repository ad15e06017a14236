//! The signed call to HealthImaging, streamed back to the client.
//!
//! Credentials come from the default AWS chain (the task role's ECS
//! container credentials in production), resolved once and cached until
//! shortly before they expire, not per request.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use tokio::sync::RwLock;

use crate::operation::{Host, UpstreamCall};
use crate::{Config, json_error};

/// Refresh credentials this long before they expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

pub struct CachedCredentials {
    provider: SharedCredentialsProvider,
    cached: RwLock<Option<Credentials>>,
}

impl CachedCredentials {
    pub fn new(provider: SharedCredentialsProvider) -> Self {
        CachedCredentials {
            provider,
            cached: RwLock::new(None),
        }
    }

    fn fresh(credentials: &Credentials) -> bool {
        credentials
            .expiry()
            .is_none_or(|expiry| expiry > SystemTime::now() + REFRESH_MARGIN)
    }

    pub async fn get(&self) -> Result<Credentials, String> {
        if let Some(credentials) = self.cached.read().await.as_ref().filter(|c| Self::fresh(c)) {
            return Ok(credentials.clone());
        }
        let mut slot = self.cached.write().await;
        if let Some(credentials) = slot.as_ref().filter(|c| Self::fresh(c)) {
            return Ok(credentials.clone());
        }
        let credentials = self
            .provider
            .provide_credentials()
            .await
            .map_err(|e| e.to_string())?;
        *slot = Some(credentials.clone());
        Ok(credentials)
    }
}

pub struct Upstream {
    client: reqwest::Client,
    credentials: CachedCredentials,
}

impl Upstream {
    pub fn new(credentials: CachedCredentials) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client with default TLS settings");
        Upstream { client, credentials }
    }

    /// Sends the signed POST and streams a success back: status and the
    /// headers a client needs untouched, the body never buffered whole. A
    /// failure is answered with our own body ([`viewer_error`]).
    pub async fn send(&self, config: &Config, call: &UpstreamCall) -> Response {
        let base = match call.host {
            Host::Runtime => &config.upstream.runtime,
            Host::Control => &config.upstream.control,
        };
        let url = format!("{base}{}", call.path_and_query);
        let credentials = match self.credentials.get().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "no AWS credentials");
                return json_error(StatusCode::BAD_GATEWAY, "the proxy has no AWS credentials");
            }
        };
        let request = match signed_request(&self.client, &url, call, &credentials, &config.region) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "signing failed");
                return json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "could not sign the upstream request",
                );
            }
        };
        let timeout = Duration::from_millis(config.upstream_timeout_ms);
        let answer = match tokio::time::timeout(timeout, request.send()).await {
            Err(_) => {
                return json_error(
                    StatusCode::GATEWAY_TIMEOUT,
                    "HealthImaging did not answer in time",
                );
            }
            Ok(Err(e)) if e.is_timeout() => {
                return json_error(
                    StatusCode::GATEWAY_TIMEOUT,
                    "HealthImaging did not answer in time",
                );
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "upstream unreachable");
                return json_error(StatusCode::BAD_GATEWAY, "HealthImaging is unreachable");
            }
            Ok(Ok(answer)) => answer,
        };
        let status = answer.status();
        if !status.is_success() {
            return refused_upstream(status, answer.headers());
        }
        let mut response = Response::builder().status(status.as_u16());
        for name in [
            header::CONTENT_TYPE,
            header::CONTENT_ENCODING,
            header::CONTENT_LENGTH,
        ] {
            if let Some(value) = answer.headers().get(&name) {
                response = response.header(&name, value);
            }
        }
        response = response.header(
            header::CACHE_CONTROL,
            HeaderValue::from_str(&call.cache_control).unwrap_or(HeaderValue::from_static("no-store")),
        );
        response
            .body(Body::from_stream(answer.bytes_stream()))
            .unwrap_or_else(|_| json_error(StatusCode::BAD_GATEWAY, "HealthImaging sent an unusable answer"))
    }
}

/// HealthImaging's answer when it is not a success. Its body never reaches
/// the viewer: an AccessDeniedException names the account id and the task
/// role, a ValidationException echoes what was sent. The viewer gets the
/// status class and a fixed message of our own (no-store); the error type
/// HealthImaging gave goes to the proxy's log only.
fn refused_upstream(status: StatusCode, headers: &http::HeaderMap) -> Response {
    let error_type = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        // `AccessDeniedException:http://internal.amazon.com/...`: the type only.
        .map(|v| v.split(':').next().unwrap_or_default())
        .filter(|v| v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or("unknown");
    tracing::warn!(
        status = status.as_u16(),
        error_type,
        "HealthImaging refused the call"
    );
    let (status, message) = viewer_error(status);
    json_error(status, message)
}

/// The status and fixed message a viewer gets for HealthImaging's `status`.
pub fn viewer_error(status: StatusCode) -> (StatusCode, &'static str) {
    match status.as_u16() {
        400 => (
            StatusCode::BAD_REQUEST,
            "HealthImaging refused the request as invalid",
        ),
        401 | 403 => (StatusCode::FORBIDDEN, "HealthImaging refused access"),
        404 => (StatusCode::NOT_FOUND, "not found"),
        409 => (
            StatusCode::CONFLICT,
            "the image set is being changed; try again later",
        ),
        429 => (
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests; try again later",
        ),
        503 => (
            StatusCode::SERVICE_UNAVAILABLE,
            "HealthImaging is unavailable; try again later",
        ),
        _ => (StatusCode::BAD_GATEWAY, "HealthImaging could not answer"),
    }
}

/// A POST to `url` with the call's body, signed with SigV4 for
/// `medical-imaging` in `region`.
pub fn signed_request(
    client: &reqwest::Client,
    url: &str,
    call: &UpstreamCall,
    credentials: &Credentials,
    region: &str,
) -> Result<reqwest::RequestBuilder, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    let host = match (parsed.host_str(), parsed.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => return Err(format!("no host in {url}")),
    };
    let mut headers = vec![("host".to_string(), host)];
    if !call.body.is_empty() {
        headers.push(("content-type".to_string(), "application/json".to_string()));
    }
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("medical-imaging")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(&call.body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _signature) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    let mut request = client.post(parsed).body(call.body.clone());
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    for (name, value) in instructions.headers() {
        request = request.header(name, value);
    }
    Ok(request)
}
