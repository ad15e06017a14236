//! Running the real binary and building profiles for tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BASE_PROFILE: &str = include_str!("../../profiles/ahi-delivery.toml");

pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ahi-edge"));
    cmd.env_remove("AWS_ENDPOINT_URL")
        .env("AHI_EDGE_NO_PROGRESS", "1");
    cmd
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

pub fn run(args: &[&str], dir: &Path) -> Run {
    bin()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run ahi-edge")
        .into()
}

/// The words `validate` asks for before plain HTTP to the ALB.
pub const HTTP_ACKNOWLEDGEMENT: &str =
    "I understand encryption in transit is disabled between CloudFront to the ALB";

/// What a user does after `init` with a plain HTTP template: types the
/// acknowledgement (which `init` leaves out) under `protocol = "http"`.
pub fn type_http_acknowledgement(profile: &Path) {
    let text = std::fs::read_to_string(profile).unwrap();
    let protocol = "protocol = \"http\"\n";
    assert!(
        text.contains(protocol),
        "{}: no plain HTTP origin",
        profile.display()
    );
    assert!(
        !text.contains(HTTP_ACKNOWLEDGEMENT),
        "init wrote the acknowledgement"
    );
    let typed = format!("{protocol}insecure_http_acknowledgement = {HTTP_ACKNOWLEDGEMENT:?}\n");
    std::fs::write(profile, text.replacen(protocol, &typed, 1)).unwrap();
}

/// The base profile with each `(old, new)` edit applied; every `old` must exist.
pub fn edited(edits: &[(&str, &str)]) -> String {
    let mut text = BASE_PROFILE.to_string();
    for (old, new) in edits {
        assert!(text.contains(old), "base profile has no {old:?}");
        text = text.replacen(old, new, 1);
    }
    text
}

pub struct Validated {
    pub run: Run,
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

/// Writes `text` as `profile.toml` in a fresh directory and validates it.
pub fn validate(text: &str) -> Validated {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.toml");
    std::fs::write(&path, text).unwrap();
    let run = run(&["validate", "--profile", "profile.toml"], dir.path());
    Validated { run, path, _dir: dir }
}

impl Validated {
    /// Asserts a problem line `profile.toml:LINE:COL: error: KEY...: MESSAGE` with its fix.
    pub fn has_error(&self, key_and_value: &str, message: &str, fix: &str) -> &Self {
        self.has("error", key_and_value, message, fix)
    }

    pub fn has(&self, severity: &str, key_and_value: &str, message: &str, fix: &str) -> &Self {
        let out = &self.run.stdout;
        let found = out.lines().zip(out.lines().skip(1)).any(|(line, next)| {
            let head = format!(": {severity}: {key_and_value}");
            let after_key = line.find(&head).map(|i| &line[i + head.len()..]);
            line.starts_with("profile.toml:")
                && after_key.is_some_and(|rest| rest.starts_with(": ") || rest.starts_with(" = "))
                && line.contains(message)
                && next.trim_start().starts_with("fix:")
                && next.contains(fix)
        });
        assert!(
            found,
            "no {severity} `{key_and_value}: ...{message}` / fix ...{fix} in:\n{out}"
        );
        self
    }

    pub fn at(&self, line_col: &str, key: &str) -> &Self {
        let needle = format!("profile.toml:{line_col}: ");
        let ok = self
            .run
            .stdout
            .lines()
            .any(|l| l.starts_with(&needle) && l.contains(key));
        assert!(ok, "no problem for {key} at {line_col} in:\n{}", self.run.stdout);
        self
    }

    pub fn exit(&self, code: i32) -> &Self {
        assert_eq!(
            self.run.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.run.stdout, self.run.stderr
        );
        self
    }

    pub fn errors(&self) -> usize {
        self.run
            .stdout
            .lines()
            .filter(|l| l.starts_with("profile.toml:") && l.contains(": error: "))
            .count()
    }
}
