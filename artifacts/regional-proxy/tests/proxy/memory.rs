//! The real binary: a 200 MB frame streams through with bounded memory,
//! bad configuration refuses to start, SIGTERM lets in-flight requests finish.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::support::*;

/// Starts the built proxy against `upstream`; returns it and its base URL
/// once it logged that it listens (that line is the synchronisation).
fn start(upstream: &str) -> (Child, String) {
    let home = tempfile_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ahi-regional-proxy"))
        .env_clear()
        .env("HOME", &home)
        .env("AHI_REGION", REGION)
        .env("AHI_ENDPOINT", upstream)
        .env("AUTH_MODE", "none")
        .env("DATASTORES", DS)
        .env("OPERATIONS", "GetImageFrame,GetImageSetMetadata,GetImageSet")
        .env("PORT", "0")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // PORT=0: the proxy binds a free port and names it in this line.
    let port = loop {
        let line = lines.next().expect("proxy exited before listening").unwrap();
        let log: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if log["fields"]["message"] == "listening" {
            break log["fields"]["port"]
                .as_u64()
                .expect("the listening line names the port");
        }
    };
    // Keep draining the log so the proxy never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, format!("http://127.0.0.1:{port}"))
}

fn tempfile_dir() -> String {
    let dir = std::env::temp_dir().join(format!("ahi-proxy-home-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.display().to_string()
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

/// The real proxy in front of a fake HealthImaging serving a `size`-byte
/// frame, and the (not yet read) answer to a GET of that frame.
async fn download(size: usize) -> (FakeHealthImaging, Child, reqwest::Response) {
    let (fake, upstream) = fake_healthimaging().await;
    fake.frame_sizes.lock().unwrap().insert(FRAME.into(), size);
    let (child, proxy) = start(&upstream);
    let answer = client()
        .get(format!("{proxy}{}?imageFrameId={FRAME}", frame_path()))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    (fake, child, answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_mb_frame_streams_with_bounded_memory() {
    const SIZE: usize = 200 * 1024 * 1024;
    let (fake, mut child, mut answer) = download(SIZE).await;
    assert_eq!(answer.headers()["content-length"], SIZE.to_string().as_str());
    let mut received = 0usize;
    while let Some(chunk) = answer.chunk().await.unwrap() {
        assert_eq!(chunk[0], frame_byte(received));
        received += chunk.len();
    }
    assert_eq!(received, SIZE);
    let peak_mib = peak_rss_kib(child.id()) / 1024;
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        peak_mib < 64,
        "the proxy peaked at {peak_mib} MiB while streaming 200 MiB"
    );
    assert!(
        fake.received()[0].signature_ok.is_ok(),
        "signed with env credentials from the default chain"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_in_flight_request_finish() {
    const SIZE: usize = 50 * 1024 * 1024;
    let (_fake, mut child, mut answer) = download(SIZE).await;
    let mut received = answer.chunk().await.unwrap().unwrap().len();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    while let Some(chunk) = answer.chunk().await.unwrap() {
        received += chunk.len();
    }
    assert_eq!(received, SIZE, "the in-flight download completed");
    assert!(child.wait().unwrap().success(), "the proxy exited cleanly");
}

#[test]
fn bad_configuration_refuses_to_start_naming_the_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_ahi-regional-proxy"))
        .env_clear()
        .env("AHI_REGION", "us-west-2")
        .env("AUTH_MODE", "cognito_jwt")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to start: COGNITO_USER_POOL_ID is not set"),
        "{stderr}"
    );
}
