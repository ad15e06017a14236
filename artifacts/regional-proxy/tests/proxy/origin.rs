//! The origin header check over real HTTP: refused before authentication
//! and before any upstream call, with a generic body; the health check open.

use std::collections::HashMap;

use ahi_regional_proxy::config::AuthConfig;
use ahi_regional_proxy::origin::OriginCheck;

use crate::support::*;

const OLD: &str = "Abc123Abc123Abc123Abc123Abc123Ab";
const NEW: &str = "Zyx987Zyx987Zyx987Zyx987Zyx987Zy";

fn accepting(values: &[(&str, &str)]) -> OriginCheck {
    let map: HashMap<String, String> = values
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    OriginCheck::from_env(&|k: &str| map.get(k).cloned())
        .unwrap()
        .unwrap()
}

async fn frame(proxy: &str, header: Option<&str>) -> (u16, String) {
    let mut request = client().get(format!("{proxy}{}?imageFrameId={FRAME}", frame_path()));
    if let Some(value) = header {
        request = request.header("X-Custom-Header", value);
    }
    let answer = request.send().await.unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap_or_default())
}

#[tokio::test]
async fn only_the_accepted_values_reach_healthimaging_and_the_health_check_stays_open() {
    let (fake, upstream) = fake_healthimaging().await;
    let mut rotating = config(&upstream, AuthConfig::None);
    rotating.origin = Some(accepting(&[("ORIGIN_SECRET", OLD), ("ORIGIN_SECRET_NEXT", NEW)]));
    let proxy = proxy(rotating).await;
    assert_eq!(frame(&proxy, Some(OLD)).await.0, 200);
    assert_eq!(frame(&proxy, Some(NEW)).await.0, 200);
    let refused = [frame(&proxy, None).await, frame(&proxy, Some("guess")).await];
    for (status, body) in &refused {
        assert_eq!((*status, body.as_str()), (403, "{\"message\":\"Forbidden\"}"));
    }
    assert_eq!(
        fake.received().len(),
        2,
        "refused requests never reach HealthImaging"
    );
    let health = client().get(format!("{proxy}/healthcheck")).send().await.unwrap();
    assert_eq!(
        health.status(),
        200,
        "the ALB's health check carries no origin header"
    );

    let mut rotated = config(&upstream, AuthConfig::None);
    rotated.origin = Some(accepting(&[("ORIGIN_SECRET", NEW)]));
    let proxy = crate::support::proxy(rotated).await;
    assert_eq!(frame(&proxy, Some(NEW)).await.0, 200);
    assert_eq!(
        frame(&proxy, Some(OLD)).await.0,
        403,
        "the old value is refused after the rotation"
    );
}

#[tokio::test]
async fn the_origin_check_comes_before_authentication() {
    let (fake, upstream) = fake_healthimaging().await;
    let mut checked = config(&upstream, cognito(&jwks_server().await));
    checked.origin = Some(accepting(&[("ORIGIN_SECRET", OLD)]));
    let proxy = proxy(checked).await;
    let token = token(&access_claims());
    let answer = client()
        .get(format!("{proxy}{}?imageFrameId={FRAME}", frame_path()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        403,
        "a valid token without the origin header is refused"
    );
    assert!(answer.headers().get("www-authenticate").is_none());
    assert!(fake.received().is_empty());
}
