//! The local AWS emulator for integration tests: started once per test
//! binary (tests/emulator/serve), shared by all tests. Tests stay apart by
//! using distinct stack names; `resources_of` filters the emulator's
//! inventory to one stack for leak checks.
//!
//! The emulator dies with this test process (the launcher arranges it), so
//! nothing is left running after `cargo test`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// Modelled delays shrink by this factor (266 s CloudFront deploy -> 0.5 s).
pub const TIME_SCALE: &str = "0.002";

pub struct Emulator {
    pub endpoint: String,
    _child: Mutex<Child>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The emulator for this test binary, started on first use.
pub fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(Emulator::start)
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let mut child = self._child.lock().unwrap_or_else(|p| p.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Emulator {
    /// A fresh emulator of its own, for tests whose faults must not reach
    /// other tests (faults apply to every call the emulator answers).
    pub fn start() -> Emulator {
        let mut child = Command::new(root().join("tests/emulator/serve"))
            .args(["--time-scale", TIME_SCALE])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tests/emulator/serve (run tests/emulator/venv first?)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("emulator stdout"))
            .read_line(&mut line)
            .expect("read the emulator's endpoint line");
        let endpoint = line
            .trim()
            .strip_prefix("endpoint=")
            .unwrap_or_else(|| panic!("emulator printed {line:?}, not endpoint=..."))
            .to_string();
        let emulator = Emulator {
            endpoint,
            _child: Mutex::new(child),
        };
        emulator.hold_template_inputs();
        emulator
    }

    /// What the shipped templates name and the pre-flight of `plan` and
    /// `up` looks up: their example user pool and app client, and their
    /// proxy image (for both architectures), and the OIDC issuer the tests'
    /// OIDC profiles name, as an account that deploys a
    /// template unchanged would hold them. Tests of the pre-flight's
    /// refusals name other pools, clients and images.
    fn hold_template_inputs(&self) {
        for (pool, client) in [
            ("us-east-1_Ab12Cd34E", "4fr9qmc1oba52s6hrfl5hntu2u"),
            ("us-west-2_Xy98Zw76V", "1example23456789abcdefghij"),
        ] {
            self.control(
                "POST",
                "/_ahi/cognito/pools",
                Some(&serde_json::json!({"id": pool, "client_ids": [client]})),
            );
        }
        for region in ["us-east-1", "us-west-2", "eu-west-1"] {
            self.control(
                "POST",
                "/_ahi/ecr/images",
                Some(
                    &serde_json::json!({"region": region, "repository": "ahi-regional-proxy", "tag": "0.1.0",
                    "architecture": "amd64", "index": true, "platforms": ["amd64", "arm64"]}),
                ),
            );
        }
        self.control(
            "POST",
            "/_ahi/oidc/issuers",
            Some(&serde_json::json!({"issuer": "https://login.example.com"})),
        );
    }

    /// A call to the control API (`/_ahi/...`), answered as JSON.
    pub fn control(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("connect to the emulator");
        let payload = body.map(Value::to_string).unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{payload}",
            payload.len()
        )
        .expect("send a control request");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read the control answer");
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP answer");
        assert!(
            head.starts_with("HTTP/1.1 200"),
            "{method} {path}: {head}\n{body}"
        );
        serde_json::from_str(body).expect("a JSON answer")
    }

    /// One viewer request through the local edge, addressed by `Host`:
    /// (status, body). A POST carries a small JSON body.
    pub fn viewer(
        &self,
        domain: &str,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("connect to the local edge");
        let body = if method == "POST" { "{}" } else { "" };
        let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
        write!(
            stream,
            "{method} {target} HTTP/1.1\r\nHost: {domain}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send a viewer request");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read the edge's answer");
        let text = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, body.to_string())
    }

    /// Every AWS call the emulator received so far.
    pub fn calls(&self) -> Vec<Value> {
        self.control("GET", "/_ahi/calls", None)
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// What the emulator holds that carries this stack's ownership tag or
    /// name; not the stack's permissions boundary, which an administrator
    /// created before the first `up` and which outlives the stack by design.
    pub fn resources_of(&self, stack: &str) -> Vec<Value> {
        let all = self.control("GET", "/_ahi/resources", None);
        all.as_array()
            .into_iter()
            .flatten()
            .filter(|r| {
                !r["id"]
                    .as_str()
                    .is_some_and(|id| id.contains(":policy/ahi-edge/"))
            })
            .filter(|r| {
                r["tags"]["ahi-edge:stack"] == stack
                    || r["id"].as_str().is_some_and(|id| id.contains(stack))
                    || r["name"].as_str().is_some_and(|n| n.starts_with(stack))
            })
            .cloned()
            .collect()
    }

    /// SDK settings pointing at the emulator (us-east-1, throwaway
    /// credentials): `aws_sdk_x::Client::new(&emulator().sdk_config())`.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        use aws_config::{BehaviorVersion, Region};
        use aws_credential_types::Credentials;
        use aws_credential_types::provider::SharedCredentialsProvider;
        aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "testing", "testing", None, None, "test",
            )))
            .build()
    }

    /// Runs the real `ahi-edge` binary against the emulator: its endpoint
    /// and throwaway credentials in the environment, as a user would set them.
    pub fn ahi_edge(&self, args: &[&str], dir: &Path) -> crate::support::Run {
        self.command(args, dir).output().expect("run ahi-edge").into()
    }

    /// The `ahi-edge` command `ahi_edge` runs, for tests that start it and
    /// kill it part way. The tool's own waits shrink by the emulator's scale.
    pub fn command(&self, args: &[&str], dir: &Path) -> Command {
        let mut cmd = crate::support::bin();
        cmd.args(args)
            .current_dir(dir)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AHI_EDGE_TIME_SCALE", TIME_SCALE)
            .env_remove("AWS_PROFILE");
        cmd
    }

    /// Runs a Python snippet with boto3 from the emulator's venv: an
    /// independent client to check what ahi-edge did. The snippet gets
    /// `client(service, region="us-east-1")` and must print one JSON value.
    pub fn boto3(&self, snippet: &str) -> Value {
        let prelude = "import boto3, json, os\n\
            def client(service, region='us-east-1'):\n    \
            return boto3.client(service, region_name=region, endpoint_url=os.environ['AHI_EMULATOR'],\n        \
            aws_access_key_id='testing', aws_secret_access_key='testing')\n";
        let out = Command::new(python())
            .arg("-c")
            .arg(format!("{prelude}{snippet}"))
            .env("AHI_EMULATOR", &self.endpoint)
            .output()
            .expect("run python from tests/emulator/.venv");
        assert!(
            out.status.success(),
            "boto3 snippet failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("the snippet prints one JSON value")
    }
}

fn python() -> PathBuf {
    let venv: &Path = &root().join("tests/emulator/.venv/bin/python");
    venv.to_path_buf()
}
