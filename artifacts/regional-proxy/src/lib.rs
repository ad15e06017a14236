//! ahi-regional-proxy: turns cacheable GETs from CloudFront into SigV4-signed
//! HealthImaging reads, for an allow-list of read operations only.

pub mod auth;
pub mod canonical;
pub mod config;
pub mod operation;
pub mod origin;
pub mod upstream;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};

pub use config::Config;
use operation::{MAX_BODY, Refusal};

pub struct AppState {
    pub config: Config,
    pub auth: auth::Authenticator,
    pub upstream: upstream::Upstream,
}

pub fn app(state: Arc<AppState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// A short JSON error that never says more than it must.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "message": message }).to_string();
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn handle(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = route(&state, request).await;
    // The path only: query strings may carry a token in some clients.
    tracing::info!(%method, %path, status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    response
}

async fn route(state: &AppState, request: Request) -> Response {
    if request.uri().path() == "/healthcheck"
        && (request.method() == Method::GET || request.method() == Method::HEAD)
    {
        return (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], "ok").into_response();
    }
    // Before anything else: a request that did not come through CloudFront
    // learns nothing (same generic body whichever part was wrong).
    if let Some(origin) = &state.config.origin
        && !origin.allows(request.headers())
    {
        tracing::info!(reason = "origin header missing or not accepted", "denied");
        return json_error(StatusCode::FORBIDDEN, "Forbidden");
    }
    if let Err(denied) = state.auth.check(request.headers()).await {
        let (challenge, reason) = match &denied {
            auth::Denied::Missing => ("Bearer", "no token".to_string()),
            auth::Denied::Invalid(r) => ("Bearer error=\"invalid_token\"", r.clone()),
        };
        tracing::info!(%reason, "denied");
        let mut response = json_error(StatusCode::UNAUTHORIZED, "Unauthorized");
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static(challenge),
        );
        return response;
    }
    let (parts, body) = request.into_parts();
    // Raw, not decoded: only the canonical form the edge writes is served.
    let query = parts.uri.query().unwrap_or_default().to_string();
    let body = if parts.method == Method::POST {
        match to_bytes(body, MAX_BODY).await {
            Ok(b) => b,
            Err(_) => return json_error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
        }
    } else {
        drop::<Body>(body);
        Default::default()
    };
    match operation::plan(
        &parts.method,
        parts.uri.path(),
        &query,
        &body,
        &state.config.cache,
        &state.config.scope,
    ) {
        Ok(call) => state.upstream.send(&state.config, &call).await,
        // The same body for both: a viewer learns nothing of which stores exist.
        Err(Refusal::NotAllowed | Refusal::OutOfScope) => {
            json_error(StatusCode::FORBIDDEN, "operation not allowed by this proxy")
        }
        Err(Refusal::BadRequest(why)) => json_error(StatusCode::BAD_REQUEST, &why),
    }
}
