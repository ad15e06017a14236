//! Benchmark (not a test): requests/s and p50/p99 latency for 1 MiB frames
//! and small gzip metadata at 1, 16 and 64 concurrent clients, through the
//! proxy (the real release binary) and, in the same run, directly against
//! the fake upstream; and the proxy's peak RSS.
//!
//!     cargo bench -p ahi-regional-proxy --bench throughput
//!
//! Everything runs on this machine over loopback. With `taskset` and two or
//! more cores, the proxy gets a core of its own and the load generator and
//! fake upstream share the rest, as the proxy has its own Fargate task in
//! production; otherwise they all share the cores, and the proxy path,
//! which moves every byte across loopback twice, is CPU-bound near 50% of
//! direct whatever the proxy does.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::response::IntoResponse;
use axum::routing::post;

const DS: &str = "0123456789abcdef0123456789abcdef";
const IS: &str = "fedcba9876543210fedcba9876543210";
const FRAME: &str = "aaaabbbbccccddddeeeeffff00001111";
const RUN: Duration = Duration::from_secs(3);

struct Stats {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    mib_s: f64,
}

async fn load(
    clients: usize,
    request: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync>,
) -> Stats {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()
        .unwrap();
    let deadline = Instant::now() + RUN;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let client = client.clone();
            let request = request.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut bytes = 0usize;
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let answer = request(&client).send().await.expect("request");
                    assert!(answer.status().is_success(), "status {}", answer.status());
                    bytes += answer.bytes().await.expect("body").len();
                    latencies.push(started.elapsed());
                }
                (latencies, bytes)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut bytes = 0;
    for task in tasks {
        let (latencies, b) = task.await.unwrap();
        all.extend(latencies);
        bytes += b;
    }
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
    Stats {
        rps: all.len() as f64 / RUN.as_secs_f64(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        mib_s: bytes as f64 / RUN.as_secs_f64() / (1024.0 * 1024.0),
    }
}

async fn fake_upstream() -> String {
    let frame = Bytes::from((0..1024 * 1024).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let metadata = Bytes::from(vec![0x1f_u8; 2048]);
    let router = Router::new()
        .route(
            &format!("/datastore/{DS}/imageSet/{IS}/getImageFrame"),
            post(move || {
                let frame = frame.clone();
                async move { ([("content-type", "application/octet-stream")], frame).into_response() }
            }),
        )
        .route(
            &format!("/datastore/{DS}/imageSet/{IS}/getImageSetMetadata"),
            post(move || {
                let metadata = metadata.clone();
                async move {
                    (
                        [("content-type", "application/json"), ("content-encoding", "gzip")],
                        metadata,
                    )
                        .into_response()
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib / 1024.0
}

#[tokio::main]
async fn main() {
    let upstream = fake_upstream().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pinned = cores >= 2
        && Command::new("taskset")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
    let mut command = if pinned {
        // The harness (generator + upstream) on cores 0..n-2, the proxy on the last.
        let me = std::process::id().to_string();
        let rest = if cores == 2 {
            "0".to_string()
        } else {
            format!("0-{}", cores - 2)
        };
        Command::new("taskset")
            .args(["-a", "-p", "-c", &rest, &me])
            .output()
            .expect("taskset");
        let mut c = Command::new("taskset");
        c.args([
            "-c",
            &(cores - 1).to_string(),
            env!("CARGO_BIN_EXE_ahi-regional-proxy"),
        ]);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_ahi-regional-proxy"))
    };
    println!(
        "{}",
        if pinned {
            "proxy pinned to its own core (taskset)"
        } else {
            "proxy shares the cores with the load generator"
        }
    );
    let mut proxy = command
        .env_clear()
        .env("HOME", std::env::temp_dir())
        .env("AHI_REGION", "us-east-1")
        .env("AHI_ENDPOINT", &upstream)
        .env("AUTH_MODE", "none")
        .env("DATASTORES", DS)
        .env("OPERATIONS", "GetImageFrame,GetImageSetMetadata,GetImageSet")
        .env("PROXY_LOG_LEVEL", "warn")
        .env("PORT", port.to_string())
        .env("AWS_ACCESS_KEY_ID", "AKIDBENCH")
        .env("AWS_SECRET_ACCESS_KEY", "bench-secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // The container image sets this (see Dockerfile); pass it on when set here.
        .envs(std::env::var("MALLOC_ARENA_MAX").map(|v| ("MALLOC_ARENA_MAX", v)))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the proxy");
    // Wait for it to accept connections.
    let proxy_url = format!("http://127.0.0.1:{port}");
    let probe = reqwest::Client::new();
    let ready = Instant::now();
    while probe
        .get(format!("{proxy_url}/healthcheck"))
        .send()
        .await
        .is_err()
    {
        assert!(ready.elapsed() < Duration::from_secs(10), "proxy did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stdout = proxy.stdout.take().unwrap();
    std::thread::spawn(move || for _ in BufReader::new(stdout).lines() {});

    println!("kind      clients  path     req/s     MiB/s   p50 ms   p99 ms");
    let mut frame_ratio = Vec::new();
    let mut metadata_added_p99_16 = 0.0;
    for (kind, op, body) in [
        (
            "frame",
            "getImageFrame",
            format!("{{\"imageFrameId\":\"{FRAME}\"}}"),
        ),
        ("metadata", "getImageSetMetadata", String::new()),
    ] {
        for clients in [1, 16, 64] {
            let direct_url = format!("{upstream}/datastore/{DS}/imageSet/{IS}/{op}");
            let body_direct = body.clone();
            let direct = load(
                clients,
                Arc::new(move |c: &reqwest::Client| c.post(&direct_url).body(body_direct.clone())),
            )
            .await;
            let query = if kind == "frame" {
                format!("?imageFrameId={FRAME}")
            } else {
                String::new()
            };
            let via_url = format!("{proxy_url}/datastore/{DS}/imageSet/{IS}/{op}{query}");
            let via = load(clients, Arc::new(move |c: &reqwest::Client| c.get(&via_url))).await;
            for (path, s) in [("direct", &direct), ("proxy", &via)] {
                println!(
                    "{kind:<9} {clients:>7}  {path:<6} {:>8.0} {:>9.1} {:>8.2} {:>8.2}",
                    s.rps, s.mib_s, s.p50_ms, s.p99_ms
                );
            }
            if kind == "frame" {
                frame_ratio.push((clients, via.mib_s / direct.mib_s));
            }
            if kind == "metadata" && clients == 16 {
                metadata_added_p99_16 = via.p99_ms - direct.p99_ms;
            }
        }
    }
    let rss = peak_rss_mib(proxy.id());
    proxy.kill().ok();
    proxy.wait().ok();
    println!();
    for (clients, ratio) in frame_ratio {
        println!(
            "frame throughput, proxy / direct, {clients} clients: {:.0}% (target >= 85%)",
            ratio * 100.0
        );
    }
    println!("metadata p99 added by the proxy at 16 clients: {metadata_added_p99_16:.2} ms (target <= 2 ms)");
    println!("proxy peak RSS over the whole run (up to 64 clients): {rss:.1} MiB (target <= 50 MiB)");
}
