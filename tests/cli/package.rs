//! `ahi-edge package authorizer`: the zip `up` deploys, byte for byte.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use crate::support::{BASE_PROFILE, edited, run};

fn package(dir: &Path, profile: &str, out: &str) -> Vec<u8> {
    std::fs::write(dir.join("p.toml"), profile).unwrap();
    let result = run(
        &["package", "authorizer", "--profile", "p.toml", "--out", out],
        dir,
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(
        result.stdout.contains(&format!("wrote {out} (")),
        "{}",
        result.stdout
    );
    std::fs::read(dir.join(out)).unwrap()
}

fn entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).unwrap();
            (file.name().unwrap().to_string(), bytes)
        })
        .collect()
}

#[test]
fn the_same_profile_gives_the_same_bytes_and_a_changed_client_id_changes_them() {
    let dir = tempfile::tempdir().unwrap();
    let a = package(dir.path(), BASE_PROFILE, "a.zip");
    let b = package(dir.path(), BASE_PROFILE, "b.zip");
    assert_eq!(a, b);
    let changed = edited(&[("4fr9qmc1oba52s6hrfl5hntu2u", "7abc0000000000000000000000")]);
    let c = package(dir.path(), &changed, "c.zip");
    assert_ne!(a, c);
    assert!(a.len() < 1024 * 1024);
}

#[test]
fn the_zip_holds_the_committed_bundle_and_the_profiles_config() {
    let dir = tempfile::tempdir().unwrap();
    let zip = package(dir.path(), BASE_PROFILE, "auth.zip");
    let files = entries(&zip);
    let names: Vec<_> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["config.json", "index.js"]);
    let bundle = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/artifacts/edge-authorizer/dist/index.js"
    ))
    .unwrap();
    assert_eq!(files[1].1, bundle);
    let config: serde_json::Value = serde_json::from_slice(&files[0].1).unwrap();
    assert_eq!(config["mode"], "cognito_jwt");
    assert_eq!(config["userPoolId"], "us-east-1_Ab12Cd34E");
    assert_eq!(
        config["clientIds"],
        serde_json::json!(["4fr9qmc1oba52s6hrfl5hntu2u"])
    );
    assert_eq!(config["tokenUse"], "access");
    assert_eq!(
        config["jwksUri"],
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E/.well-known/jwks.json"
    );
    assert_eq!(config["queryToken"], false);
}

#[test]
fn node_runs_the_packaged_handler_as_lambda_would() {
    let dir = tempfile::tempdir().unwrap();
    let zip = package(dir.path(), BASE_PROFILE, "auth.zip");
    let unpacked = dir.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    for (name, bytes) in entries(&zip) {
        std::fs::write(unpacked.join(name), bytes).unwrap();
    }
    // A preflight needs no JWKS; a request without a token must be refused.
    let script = r#"
        const { handler } = require("./index.js");
        const event = (method, headers) => ({ Records: [{ cf: { request: { method, uri: "/x", querystring: "", headers } } }] });
        (async () => {
            const pre = await handler(event("OPTIONS", { origin: [{ key: "Origin", value: "https://v.example.com" }] }));
            const denied = await handler(event("GET", {}));
            console.log(JSON.stringify({ pre: pre.status, denied: denied.status, cors: denied.headers["access-control-allow-origin"][0].value }));
        })();
    "#;
    let out = Command::new("node")
        .arg("-e")
        .arg(script)
        .current_dir(&unpacked)
        .output()
        .expect("node");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    assert_eq!(last, r#"{"pre":"204","denied":"401","cors":"*"}"#, "{stdout}");
}

#[test]
fn oidc_profiles_bake_issuer_audiences_and_jwks_url() {
    let dir = tempfile::tempdir().unwrap();
    let text = BASE_PROFILE
        .replace("mode = \"cognito_jwt\"", "mode = \"oidc\"")
        .replace(
            "[auth.cognito]",
            "[auth.oidc]\nissuer = \"https://login.example.com\"\naudiences = [\"ahi-viewer\"]",
        )
        .replace("user_pool_id = \"us-east-1_Ab12Cd34E\"", "")
        .replace("client_ids = [\"4fr9qmc1oba52s6hrfl5hntu2u\"]", "")
        .replace("token_use = \"access\"", "");
    let files = entries(&package(dir.path(), &text, "o.zip"));
    let config: serde_json::Value = serde_json::from_slice(&files[0].1).unwrap();
    assert_eq!(config["mode"], "oidc");
    assert_eq!(config["issuer"], "https://login.example.com");
    assert_eq!(config["audiences"], serde_json::json!(["ahi-viewer"]));
    assert_eq!(
        config["jwksUri"],
        "https://login.example.com/.well-known/jwks.json"
    );
    assert!(config.get("userPoolId").is_none());
}

#[test]
fn a_profile_without_an_authorizer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let noauth = include_str!("../../profiles/ahi-delivery-noauth.toml");
    std::fs::write(dir.path().join("p.toml"), noauth).unwrap();
    let result = run(
        &["package", "authorizer", "--profile", "p.toml", "--out", "x.zip"],
        dir.path(),
    );
    assert_eq!(result.code, 2);
    assert!(
        result
            .stderr
            .contains("auth.mode = \"none\": this profile deploys no authorizer"),
        "{}",
        result.stderr
    );
    assert!(!dir.path().join("x.zip").exists());
}
