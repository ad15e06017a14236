//! Routes, mapping to the signed upstream call, passthrough and refusals.

use ahi_regional_proxy::config::AuthConfig;
use ahi_regional_proxy::operation::Operation;
use futures_util::future::join_all;
use serde_json::json;

use crate::support::*;

async fn open_proxy() -> (FakeHealthImaging, String) {
    let (fake, upstream) = fake_healthimaging().await;
    (fake, proxy(config(&upstream, AuthConfig::None)).await)
}

#[tokio::test]
async fn a_frame_get_reaches_healthimaging_as_a_correctly_signed_post() {
    let (fake, proxy) = open_proxy().await;
    let url = format!("{proxy}{}?imageFrameId={FRAME}", frame_path());
    let answer = client().get(url).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "application/octet-stream");
    assert_eq!(
        answer.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let bytes = answer.bytes().await.unwrap();
    assert_eq!(bytes.len(), 1024);
    assert!(bytes.iter().enumerate().all(|(i, b)| *b == frame_byte(i)));

    let [call] = fake.received().try_into().expect("exactly one upstream call");
    assert_eq!(call.method, "POST");
    assert_eq!(call.path_and_query, frame_path(), "no query string upstream");
    assert_eq!(call.body, format!("{{\"imageFrameId\":\"{FRAME}\"}}"));
    assert_eq!(call.headers["content-type"], "application/json");
    assert_eq!(call.signature_ok, Ok(()));
}

#[tokio::test]
async fn the_client_token_never_reaches_healthimaging() {
    let (fake, upstream) = fake_healthimaging().await;
    let proxy = proxy(config(&upstream, cognito(&jwks_server().await))).await;
    let token = token(&access_claims());
    // A token in the query is not the canonical form: refused, never sent on.
    let url = format!("{proxy}{}?imageFrameId={FRAME}&token={token}", frame_path());
    let answer = client().get(url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(answer.status(), 400);
    let url = format!("{proxy}{}?imageFrameId={FRAME}", frame_path());
    let answer = client().get(url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let [call] = fake.received().try_into().expect("one upstream call");
    let signature = token.rsplit('.').next().unwrap();
    assert!(call.headers["authorization"].starts_with("AWS4-HMAC-SHA256 "));
    for (name, value) in &call.headers {
        assert!(!value.contains(signature), "header {name} carries the token");
    }
    assert!(!call.path_and_query.contains(signature));
    assert!(!String::from_utf8_lossy(&call.body).contains(signature));
}

#[tokio::test]
async fn metadata_passes_through_compressed_with_its_headers() {
    let (fake, proxy) = open_proxy().await;
    let path = format!("/datastore/{DS}/imageSet/{IS}/getImageSetMetadata");
    let latest = client().get(format!("{proxy}{path}")).send().await.unwrap();
    assert_eq!(latest.status(), 200);
    assert_eq!(latest.headers()["content-encoding"], "gzip");
    assert_eq!(latest.headers()["content-type"], "application/json");
    assert_eq!(latest.headers()["cache-control"], "public, max-age=60");
    let body = latest.bytes().await.unwrap();
    assert_eq!(
        &body[..2],
        &[0x1f, 0x8b],
        "still gzip: the proxy does not decompress"
    );
    let versioned = client()
        .get(format!("{proxy}{path}?version=7"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        versioned.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let calls = fake.received();
    assert_eq!(calls[0].path_and_query, path);
    assert_eq!(calls[1].path_and_query, format!("{path}?version=7"));
    assert!(calls.iter().all(|c| c.body.is_empty() && c.signature_ok.is_ok()));
}

#[tokio::test]
async fn image_set_search_and_versions_are_mapped_exactly() {
    let (fake, proxy) = open_proxy().await;
    let set = format!("/datastore/{DS}/imageSet/{IS}/getImageSet");
    assert_eq!(
        client()
            .get(format!("{proxy}{set}?version=2"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let search = format!("/datastore/{DS}/searchImageSets");
    let answer = client()
        .post(format!("{proxy}{search}?maxResults=5&nextToken=abc"))
        .body(r#"{"searchCriteria":{"filters":[{"values":[{"DICOMPatientId":"p1"}],"operator":"EQUAL"}]},"extra":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["cache-control"], "no-store");
    let versions = format!("/datastore/{DS}/imageSet/{IS}/listImageSetVersions");
    assert_eq!(
        client()
            .get(format!("{proxy}{versions}?maxResults=50"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let calls = fake.received();
    assert_eq!(calls[0].path_and_query, format!("{set}?version=2"));
    assert_eq!(
        calls[1].path_and_query,
        format!("{search}?maxResults=5&nextToken=abc")
    );
    assert_eq!(
        calls[1].body,
        r#"{"searchCriteria":{"filters":[{"operator":"EQUAL","values":[{"DICOMPatientId":"p1"}]}]}}"#
    );
    assert_eq!(calls[2].path_and_query, format!("{versions}?maxResults=50"));
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|c| c.method == "POST" && c.signature_ok.is_ok()));
}

/// AWS serves every image-set operation from `runtime-medical-imaging`:
/// with two fakes standing for the two hosts, each of the five reaches the
/// runtime one and the control one hears nothing.
#[tokio::test]
async fn every_image_set_operation_goes_to_the_runtime_host() {
    let (runtime, runtime_url) = fake_healthimaging().await;
    let (control, control_url) = fake_healthimaging().await;
    let proxy = proxy(with_hosts(&runtime_url, &control_url, AuthConfig::None)).await;
    let base = format!("{proxy}/datastore/{DS}/imageSet/{IS}");
    let calls = [
        (
            "getImageFrame",
            client().get(format!("{base}/getImageFrame?imageFrameId={FRAME}")),
        ),
        (
            "getImageSetMetadata",
            client().get(format!("{base}/getImageSetMetadata")),
        ),
        ("getImageSet", client().get(format!("{base}/getImageSet"))),
        (
            "listImageSetVersions",
            client().get(format!("{base}/listImageSetVersions")),
        ),
        (
            "searchImageSets",
            client()
                .post(format!("{proxy}/datastore/{DS}/searchImageSets"))
                .body("{}"),
        ),
    ];
    for (operation, request) in calls {
        let status = request.send().await.unwrap().status();
        assert_eq!(status, 200, "{operation}");
    }
    let reached: Vec<String> = runtime
        .received()
        .iter()
        .map(|r| {
            r.path_and_query
                .rsplit('/')
                .next()
                .unwrap()
                .split('?')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        reached,
        [
            "getImageFrame",
            "getImageSetMetadata",
            "getImageSet",
            "listImageSetVersions",
            "searchImageSets"
        ]
    );
    assert!(control.received().is_empty(), "{:?}", control.received());
}

#[tokio::test]
async fn writes_and_unknown_routes_are_refused_without_an_upstream_call() {
    let (fake, proxy) = open_proxy().await;
    for (method, path) in [
        ("POST", format!("/datastore/{DS}/imageSet/{IS}/deleteImageSet")),
        (
            "POST",
            format!("/datastore/{DS}/imageSet/{IS}/updateImageSetMetadata?latestVersion=1"),
        ),
        ("POST", format!("/datastore/{DS}/imageSet/{IS}/copyImageSet")),
        ("DELETE", format!("/datastore/{DS}")),
        ("GET", "/admin".to_string()),
    ] {
        let answer = client()
            .request(method.parse().unwrap(), format!("{proxy}{path}"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 403, "{method} {path}");
        assert_eq!(answer.headers()["content-type"], "application/json");
        assert_eq!(
            answer.text().await.unwrap(),
            r#"{"message":"operation not allowed by this proxy"}"#
        );
    }
    let bad = client()
        .get(format!("{proxy}{}?imageFrameId=NOT-AN-ID", frame_path()))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(
        fake.received().is_empty(),
        "no upstream call for refused requests"
    );
}

#[tokio::test]
async fn health_answers_without_auth() {
    let (fake, upstream) = fake_healthimaging().await;
    let proxy = proxy(config(&upstream, cognito(&jwks_server().await))).await;
    let answer = client().get(format!("{proxy}/healthcheck")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "ok");
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn a_bare_upstream_answer_passes_through_without_invented_headers() {
    let (_, proxy) = open_proxy().await;
    let bare = client()
        .get(format!("{proxy}{}?imageFrameId={BARE_FRAME}", frame_path()))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 200);
    assert!(
        bare.headers().get("content-type").is_none(),
        "no content type invented"
    );
    assert_eq!(bare.bytes().await.unwrap().len(), 1024);
}

/// HealthImaging's error bodies name the account and the task role: a
/// viewer gets the status class and our own fixed body, never theirs.
#[tokio::test]
async fn healthimaging_error_bodies_never_reach_the_viewer() {
    let (fake, proxy) = open_proxy().await;
    let expected = [
        (400, 400, "HealthImaging refused the request as invalid"),
        (403, 403, "HealthImaging refused access"),
        (404, 404, "not found"),
        (409, 409, "the image set is being changed; try again later"),
        (429, 429, "too many requests; try again later"),
        (500, 502, "HealthImaging could not answer"),
        (503, 503, "HealthImaging is unavailable; try again later"),
    ];
    for (upstream, viewer, message) in expected {
        let set = failing_set(upstream);
        for target in [
            format!("/datastore/{DS}/imageSet/{set}/getImageFrame?imageFrameId={FRAME}"),
            format!("/datastore/{DS}/imageSet/{set}/getImageSetMetadata?version=2"),
            format!("/datastore/{DS}/imageSet/{set}/getImageSet"),
        ] {
            let answer = client().get(format!("{proxy}{target}")).send().await.unwrap();
            assert_eq!(answer.status(), viewer, "{upstream} for {target}");
            let headers = answer.headers().clone();
            assert_eq!(headers["content-type"], "application/json", "{target}");
            assert_eq!(
                headers["cache-control"], "no-store",
                "errors are never cached: {target}"
            );
            assert!(
                headers.get("content-encoding").is_none(),
                "{target}: upstream's encoding kept"
            );
            assert!(headers.get("x-amzn-errortype").is_none() && headers.get("x-amzn-requestid").is_none());
            let body = answer.text().await.unwrap();
            assert_eq!(body, json!({ "message": message }).to_string(), "{target}");
            for secret in [ACCOUNT, ROLE, "arn:aws", "Exception", "not authorized"] {
                assert!(
                    !body.contains(secret),
                    "{target}: {secret} reached the viewer: {body}"
                );
            }
        }
    }
    // Every one of those was HealthImaging's answer, not a refusal of ours.
    assert_eq!(fake.received().len(), expected.len() * 3);
}

#[tokio::test]
async fn an_unreachable_upstream_is_502_and_a_slow_one_504() {
    // Port 9 (discard) on loopback: nothing listens there, and unlike a
    // port picked and released here, no other test can take it meanwhile.
    let closed = "http://127.0.0.1:9";
    let proxy_down = proxy(config(closed, AuthConfig::None)).await;
    let down = client()
        .get(format!("{proxy_down}{}?imageFrameId={FRAME}", frame_path()))
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), 502);
    assert_eq!(
        down.text().await.unwrap(),
        r#"{"message":"HealthImaging is unreachable"}"#
    );

    let (_, proxy) = open_proxy().await;
    let slow = client()
        .get(format!("{proxy}{}?imageFrameId={SLOW_FRAME}", frame_path()))
        .send()
        .await
        .unwrap();
    assert_eq!(slow.status(), 504);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_clients_each_get_their_own_intact_frame() {
    let (fake, proxy) = open_proxy().await;
    let ids: Vec<String> = (0..32).map(|i| format!("{i:032x}")).collect();
    for (i, id) in ids.iter().enumerate() {
        fake.frame_sizes
            .lock()
            .unwrap()
            .insert(id.clone(), 100_000 + i * 1000);
    }
    let requests = ids.iter().enumerate().map(|(i, id)| {
        let url = format!("{proxy}{}?imageFrameId={id}", frame_path());
        async move {
            let bytes = client().get(url).send().await.unwrap().bytes().await.unwrap();
            assert_eq!(bytes.len(), 100_000 + i * 1000);
            assert!(bytes.iter().enumerate().all(|(j, b)| *b == frame_byte(j)));
        }
    });
    join_all(requests).await;
    let calls = fake.received();
    assert_eq!(calls.len(), 32);
    assert!(calls.iter().all(|c| c.signature_ok.is_ok()));
}

/// The proxy is a boundary of its own: a data store or an operation outside
/// its DATASTORES / OPERATIONS is a 403 with the same generic body as any
/// refusal, and HealthImaging hears nothing.
#[tokio::test]
async fn a_data_store_or_operation_outside_the_scope_is_403_before_signing() {
    let (fake, upstream) = fake_healthimaging().await;
    let mut viewing = config(&upstream, AuthConfig::None);
    viewing.scope.operations = vec![
        Operation::GetImageFrame,
        Operation::GetImageSetMetadata,
        Operation::GetImageSet,
    ];
    let proxy = proxy(viewing).await;
    for request in [
        client().get(format!(
            "{proxy}/datastore/{FOREIGN_DS}/imageSet/{IS}/getImageFrame?imageFrameId={FRAME}"
        )),
        client().get(format!(
            "{proxy}/datastore/{FOREIGN_DS}/imageSet/{IS}/getImageSetMetadata"
        )),
        client()
            .post(format!("{proxy}/datastore/{DS}/searchImageSets"))
            .body("{}"),
        client().get(format!(
            "{proxy}/datastore/{DS}/imageSet/{IS}/listImageSetVersions"
        )),
    ] {
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), 403);
        assert_eq!(
            answer.text().await.unwrap(),
            r#"{"message":"operation not allowed by this proxy"}"#
        );
    }
    assert!(fake.received().is_empty(), "{:?}", fake.received());
}

/// The review's poisoning probes and their neighbours reach the proxy raw:
/// each is a 400, never a guess, and HealthImaging hears nothing.
#[tokio::test]
async fn non_canonical_queries_are_400_without_an_upstream_call() {
    let (fake, proxy) = open_proxy().await;
    let other = "0000111122223333444455556666ffff";
    let frame = frame_path();
    let metadata = format!("/datastore/{DS}/imageSet/{IS}/getImageSetMetadata");
    for target in [
        format!("{frame}?imageFrame%49d={other}&imageFrameId={FRAME}"),
        format!("{frame}?imageFrameId={FRAME}&imageFrameId={other}"),
        format!("{frame}?ImageFrameId={FRAME}"),
        format!("{frame}?imageFrameId={FRAME}&debug=1"),
        format!("{frame}?imageFrameId={FRAME}&%74oken=a.b.c"),
        format!("{frame}?imageFrameId=%61{}", &FRAME[1..]),
        format!("{metadata}?versio%6E=1"),
        format!("{metadata}?version=01"),
    ] {
        let answer = client().get(format!("{proxy}{target}")).send().await.unwrap();
        assert_eq!(answer.status(), 400, "{target}");
        let body = answer.text().await.unwrap();
        assert!(!body.contains(other) && !body.contains("oken"), "{body}");
    }
    let post = client()
        .post(format!("{proxy}{frame}"))
        .body(format!(r#"{{"imageFrameId":"{FRAME}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 403, "a frame is read with GET only");
    assert!(fake.received().is_empty(), "{:?}", fake.received());
}
