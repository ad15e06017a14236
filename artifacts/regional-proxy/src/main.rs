use std::sync::Arc;

use ahi_regional_proxy::{AppState, Config, app, auth, upstream};
use axum::serve::ListenerExt;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    let config = match Config::from_env(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("ahi-regional-proxy: refusing to start: {e}");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::new(format!("ahi_regional_proxy={}", config.log_level)))
        .init();

    // The default chain: environment, then ECS container credentials (the task role), ...
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(config.region.clone()))
        .load()
        .await;
    let Some(provider) = aws.credentials_provider() else {
        eprintln!("ahi-regional-proxy: refusing to start: no AWS credentials provider is configured");
        std::process::exit(2);
    };
    let state = Arc::new(AppState {
        auth: auth::Authenticator::new(config.auth.clone()),
        upstream: upstream::Upstream::new(upstream::CachedCredentials::new(provider)),
        config: config.clone(),
    });
    let listener = match tokio::net::TcpListener::bind(("0.0.0.0", config.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("ahi-regional-proxy: cannot listen on port {}: {e}", config.port);
            std::process::exit(1);
        }
    };
    // Frames are written in many segments: without NODELAY, Nagle and the
    // client's delayed ACK stall the last one by ~40 ms.
    let port = listener.local_addr().map_or(config.port, |a| a.port());
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    if config.origin.is_none() {
        tracing::warn!("no ORIGIN_SECRET: the origin header is not checked (only the ALB rule checks it)");
    }
    tracing::info!(port, region = %config.region, "listening");
    // On SIGTERM (ECS stopping the task) stop accepting, finish in-flight requests.
    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown())
        .await;
    if let Err(e) = served {
        tracing::error!(error = %e, "server failed");
        std::process::exit(1);
    }
}

async fn shutdown() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
