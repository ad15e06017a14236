//! Helpers for whole-stack tests: a shipped profile under a test's own
//! stack name, runs of the binary, and what the emulator holds.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::emulator::Emulator;
use crate::support::Run;

/// A shipped profile copied into a temporary directory with its stack
/// renamed, so tests sharing one emulator never touch each other's stacks.
pub struct Stack<'a> {
    pub emu: &'a Emulator,
    pub name: String,
    pub dir: tempfile::TempDir,
}

impl<'a> Stack<'a> {
    pub fn new(emu: &'a Emulator, shipped: &str, name: &str, edits: &[(&str, &str)]) -> Self {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("profiles/{shipped}.toml"));
        let mut text = std::fs::read_to_string(path).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("name = "))
            .unwrap()
            .to_string();
        text = text.replacen(&line, &format!("name = \"{name}\""), 1);
        for (old, new) in edits {
            assert!(text.contains(old), "{shipped} has no {old:?}");
            text = text.replacen(old, new, 1);
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("profile.toml"), &text).unwrap();
        let stack = Stack {
            emu,
            name: name.to_string(),
            dir,
        };
        if text.contains("[healthimaging]") {
            stack.create_boundary();
        }
        stack
    }

    /// What an administrator does once per stack before its first `up`
    /// (docs/permissions.md): creates the permissions boundary its roles
    /// carry, from the document `iam-policy --boundary` prints.
    pub fn create_boundary(&self) {
        let run = self.run(&["iam-policy", "--boundary"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let snippet = format!(
            "iam = client('iam')\n\
             try:\n    iam.create_policy(PolicyName='{}-boundary', Path='/ahi-edge/', PolicyDocument={:?})\n\
             except iam.exceptions.EntityAlreadyExistsException:\n    pass\n\
             print(json.dumps(True))",
            self.name, run.stdout
        );
        self.emu.boto3(&snippet);
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Rewrites part of the profile.
    pub fn edit(&self, old: &str, new: &str) {
        let file = self.path().join("profile.toml");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(old), "profile has no {old:?}");
        std::fs::write(file, text.replacen(old, new, 1)).unwrap();
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let mut all = vec!["--profile", "profile.toml"];
        all.extend_from_slice(args);
        self.emu.ahi_edge(&all, self.path())
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        let mut all = vec!["--profile", "profile.toml"];
        all.extend_from_slice(args);
        self.emu
            .command(&all, self.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    }

    /// `up`, which must succeed.
    pub fn up(&self) -> Run {
        let run = self.run(&["up"]);
        assert_eq!(run.code, 0, "up failed:\n{}\n{}", run.stdout, run.stderr);
        run
    }

    /// `plan`, then `up` (which must succeed): every resource comes out as
    /// `plan` said it would (#22: one decision for both). Returns `up`'s run
    /// (its report as JSON).
    pub fn planned_up(&self) -> Run {
        let (_, plan) = self.json(&["plan"]);
        let run = self.run(&["--json", "up"]);
        assert_eq!(run.code, 0, "up failed:\n{}\n{}", run.stdout, run.stderr);
        let up: Value = serde_json::from_str(&run.stdout).expect("up --json prints its report");
        let done: std::collections::BTreeMap<&str, &str> = up["resources"]
            .as_array()
            .expect("up reports resources")
            .iter()
            .map(|r| (r["id"].as_str().unwrap(), r["status"].as_str().unwrap()))
            .collect();
        let mut disagree = Vec::new();
        for step in plan["resources"].as_array().expect("plan lists resources") {
            let (id, action) = (step["id"].as_str().unwrap(), step["action"].as_str().unwrap());
            let want = match action {
                "create" => "created",
                "update" => "updated",
                "unchanged" => "unchanged",
                "delete" => "deleted",
                other => panic!("plan predicts {other} for {id} before an up that succeeded: {plan}"),
            };
            let got = done.get(id).copied().unwrap_or("(not reported)");
            if got != want {
                disagree.push(format!("{id}: plan said {action}, up {got}"));
            }
        }
        assert!(
            disagree.is_empty(),
            "plan and up disagree:\n{}\nplan: {plan}\nup: {up}",
            disagree.join("\n")
        );
        run
    }

    pub fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let run = self.run(&all);
        let value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}):\n{}\n{}", run.stdout, run.stderr));
        (run.code, value)
    }

    pub fn lockfile(&self) -> Option<String> {
        std::fs::read_to_string(self.path().join("profile.lock")).ok()
    }

    /// Resource types the emulator holds for this stack, with counts.
    pub fn held(&self) -> std::collections::BTreeMap<String, usize> {
        let mut out = std::collections::BTreeMap::new();
        for r in self.emu.resources_of(&self.name) {
            *out.entry(r["type"].as_str().unwrap().to_string()).or_insert(0) += 1;
        }
        out
    }

    /// The emulator's call log from `after` (a sequence number) on.
    pub fn calls_since(&self, after: u64) -> Vec<Value> {
        self.emu
            .calls()
            .into_iter()
            .filter(|c| c["seq"].as_u64().unwrap_or(0) > after)
            .collect()
    }

    /// The mutating calls since `after`, as operation names in order.
    pub fn writes_since(&self, after: u64) -> Vec<String> {
        self.calls_since(after)
            .iter()
            .filter_map(|c| c["operation"].as_str())
            .filter(|o| mutating(o))
            .map(str::to_string)
            .collect()
    }

    /// The CloudFront resources of this stack the emulator holds, by type.
    pub fn cloudfront_held(&self) -> std::collections::BTreeMap<String, usize> {
        let mut out = std::collections::BTreeMap::new();
        for r in self.emu.resources_of(&self.name) {
            if r["service"] == "cloudfront" {
                *out.entry(r["type"].as_str().unwrap_or_default().to_string())
                    .or_insert(0) += 1;
            }
        }
        out
    }

    pub fn last_seq(&self) -> u64 {
        self.emu
            .calls()
            .last()
            .and_then(|c| c["seq"].as_u64())
            .unwrap_or(0)
    }

    /// Runs `args` and SIGKILLs the process once the emulator has answered
    /// `operation` for it (a call logged after the start), or returns false
    /// if the run ended first.
    pub fn kill_at(&self, args: &[&str], operation: &str) -> bool {
        self.kill_when(args, operation, |c| c["operation"] == operation)
    }

    /// [`Stack::kill_at`] for the first call `matches` accepts (`what`
    /// names it in the failure).
    pub fn kill_when(&self, args: &[&str], what: &str, matches: impl Fn(&Value) -> bool) -> bool {
        let after = self.last_seq();
        let mut child = self.spawn(args);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if self.calls_since(after).iter().any(&matches) {
                child.kill().unwrap();
                child.wait().unwrap();
                return true;
            }
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            assert!(Instant::now() < deadline, "{what} never came");
        }
    }
}

/// Operations that change something, by AWS's naming.
pub fn mutating(operation: &str) -> bool {
    !["Get", "Describe", "List", "Head", "BatchGet"]
        .iter()
        .any(|p| operation.starts_with(p))
}

/// The count of each resource type a full `up` of the HealthImaging stack
/// holds, with a new VPC and an authorizer.
pub fn full_stack(authorizer: bool, new_network: bool) -> std::collections::BTreeMap<String, usize> {
    let mut want: Vec<(&str, usize)> = vec![
        ("distribution", 1),
        ("CachePolicy", 1),
        ("OriginRequestPolicy", 1),
        ("ResponseHeadersPolicy", 1),
        ("bucket", 1),
        ("secret", 1),
        ("security-group", 2),
        ("load-balancer", 1),
        ("listener", 1),
        ("listener-rule", 1),
        ("target-group", 1),
        ("cluster", 1),
        ("service", 1),
        ("task-definition", 1),
        ("log-group", 1),
    ];
    let roles = if authorizer { 3 } else { 2 };
    want.push(("role", roles));
    // The authorizer (Lambda@Edge), or without it the HealthImaging scope's
    // CloudFront Function (issue 23): one function either way.
    want.push(("function", 1));
    if new_network {
        want.extend([
            ("vpc", 1),
            ("subnet", 4),
            ("internet-gateway", 1),
            ("nat-gateway", 1),
            ("elastic-ip", 1),
            ("route-table", 2),
        ]);
    }
    want.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// What the emulator holds for a stack, without the Lambda@Edge replicas
/// and the log groups Lambda makes for them (both come with CloudFront's
/// deploys, not with `up`).
pub fn without_replicas(stack: &Stack) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for r in stack.emu.resources_of(&stack.name) {
        let replica_logs = r["id"].as_str().is_some_and(|id| id.starts_with("/aws/lambda/"));
        if r["type"] != "replica" && !replica_logs {
            *out.entry(r["type"].as_str().unwrap().to_string()).or_insert(0) += 1;
        }
    }
    out
}

/// How many regions the emulator (and the profiles' default) replicate to.
pub const REPLICA_REGIONS: usize = 13;

/// What a plain `down` (no `--purge-logs`) keeps: the access-log bucket, and
/// with an authorizer the log groups Lambda made for its replicas.
pub fn kept_logs(authorizer: bool) -> std::collections::BTreeMap<String, usize> {
    let mut kept = std::collections::BTreeMap::from([("bucket".to_string(), 1)]);
    if authorizer {
        kept.insert("log-group".to_string(), REPLICA_REGIONS);
    }
    kept
}
