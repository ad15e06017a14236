//! Raw global flags -> resolved settings, in one place, before any work.

use std::path::PathBuf;

use crate::cli::GlobalArgs;
use crate::error::Error;
use crate::output::{Printer, Verbosity};

#[derive(Debug, Clone)]
pub struct Settings {
    pub profile: PathBuf,
    pub lockfile: PathBuf,
    pub yes: bool,
    pub aws: AwsSettings,
    /// `--state s3://BUCKET/KEY` (and `--state-region`): overrides the
    /// profile's `[state]`.
    pub state: Option<StateFlag>,
}

/// The S3 state named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateFlag {
    pub bucket: String,
    pub key: String,
    pub region: Option<String>,
}

pub use crate::aws::AwsSettings;

impl Settings {
    /// The flags a `next:` hint must repeat so it reaches the same stack:
    /// `--profile`, `--lockfile` unless it is the profile's default, and
    /// `--endpoint-url` when one was given. Starts with a space.
    pub fn flags(&self) -> String {
        let mut flags = format!(" --profile {}", shell_word(&self.profile.display().to_string()));
        if self.lockfile != self.profile.with_extension("lock") {
            flags += &format!(" --lockfile {}", shell_word(&self.lockfile.display().to_string()));
        }
        if let Some(state) = &self.state {
            flags += &format!(
                " --state {}",
                shell_word(&format!("s3://{}/{}", state.bucket, state.key))
            );
            if let Some(region) = &state.region {
                flags += &format!(" --state-region {}", shell_word(region));
            }
        }
        if let Some(url) = &self.aws.endpoint_url {
            flags += &format!(" --endpoint-url {}", shell_word(url));
        }
        flags
    }

    pub fn printer(args: &GlobalArgs) -> Printer {
        Printer::new(
            args.json,
            Verbosity::from_flags(args.verbose, args.quiet),
            args.no_progress,
        )
    }

    pub fn resolve(args: &GlobalArgs) -> Result<Settings, Error> {
        let lockfile = args
            .lockfile
            .clone()
            .unwrap_or_else(|| args.profile.with_extension("lock"));
        if lockfile == args.profile {
            return Err(Error::BadFlag {
                flag: "--lockfile",
                value: lockfile.display().to_string(),
                reason: "is the profile itself".into(),
                fix: "name a different file, e.g. the profile's path with the extension .lock".into(),
            });
        }
        let endpoint_url = args.endpoint_url.clone().filter(|u| !u.is_empty());
        if let Some(url) = &endpoint_url {
            let host = url
                .strip_prefix("http://")
                .or_else(|| url.strip_prefix("https://"));
            if host.is_none_or(|h| h.is_empty() || h.starts_with('/')) {
                return Err(Error::BadFlag {
                    flag: "--endpoint-url (or AWS_ENDPOINT_URL)",
                    value: url.clone(),
                    reason: "is not an http(s) URL with a host".into(),
                    fix: "use e.g. http://127.0.0.1:5000 for the local emulator, or leave it unset for AWS"
                        .into(),
                });
            }
        }
        if let Some(name) = &args.aws_profile
            && !aws_profile_exists(name)
        {
            return Err(Error::BadFlag {
                flag: "--aws-profile",
                value: name.clone(),
                reason: "names no profile in the shared AWS config or credentials file".into(),
                fix: "use a profile listed by `aws configure list-profiles`, or leave the flag out".into(),
            });
        }
        let state = match &args.state {
            None => {
                if let Some(region) = &args.state_region {
                    return Err(Error::BadFlag {
                        flag: "--state-region",
                        value: region.clone(),
                        reason: "is the region of a --state bucket, and there is no --state".into(),
                        fix: "add --state s3://BUCKET/KEY, or leave --state-region out (the profile's [state] has its own region)".into(),
                    });
                }
                None
            }
            Some(url) => {
                let (bucket, key) = crate::state::parse_url(url).map_err(|reason| Error::BadFlag {
                    flag: "--state",
                    value: url.clone(),
                    reason,
                    fix: "name the state object as s3://BUCKET/KEY, e.g. s3://team-state/ahi-edge/prod.lock"
                        .into(),
                })?;
                if let Some(region) = &args.state_region
                    && !crate::profile::formats::is_region(region)
                {
                    return Err(Error::BadFlag {
                        flag: "--state-region",
                        value: region.clone(),
                        reason: "is not an AWS region".into(),
                        fix: "use the state bucket's region, e.g. us-east-1".into(),
                    });
                }
                Some(StateFlag {
                    bucket,
                    key,
                    region: args.state_region.clone(),
                })
            }
        };
        Ok(Settings {
            profile: args.profile.clone(),
            lockfile,
            state,
            yes: args.yes,
            aws: AwsSettings {
                endpoint_url,
                profile: args.aws_profile.clone(),
            },
        })
    }
}

/// Whether the shared config (`[profile NAME]`, or `[default]`) or the
/// credentials file (`[NAME]`) defines the profile, as the AWS CLI reads
/// them (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`, else ~/.aws/).
fn aws_profile_exists(name: &str) -> bool {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let config = std::env::var_os("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".aws/config"));
    let credentials = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".aws/credentials"));
    let sections = |path: &PathBuf| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                l.trim()
                    .strip_prefix('[')?
                    .strip_suffix(']')
                    .map(|s| s.trim().to_string())
            })
            .collect()
    };
    let in_config = sections(&config).iter().any(|s| {
        s.strip_prefix("profile")
            .map(str::trim)
            .is_some_and(|p| p == name)
            || (s == "default" && name == "default")
    });
    in_config || sections(&credentials).iter().any(|s| s == name)
}

/// A word as a shell reads it back: quoted when it holds anything but
/// plain path characters.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-:=@+,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod flag_tests {
    use super::*;

    fn settings(profile: &str, lockfile: &str, endpoint: Option<&str>) -> Settings {
        Settings {
            profile: PathBuf::from(profile),
            lockfile: PathBuf::from(lockfile),
            state: None,
            yes: false,
            aws: AwsSettings {
                endpoint_url: endpoint.map(str::to_string),
                profile: None,
            },
        }
    }

    #[test]
    fn hints_repeat_the_flags_that_reach_the_same_stack() {
        assert_eq!(settings("p.toml", "p.lock", None).flags(), " --profile p.toml");
        assert_eq!(
            settings("../prod.toml", "/tmp/x.lock", Some("http://127.0.0.1:5000")).flags(),
            " --profile ../prod.toml --lockfile /tmp/x.lock --endpoint-url http://127.0.0.1:5000"
        );
        assert_eq!(
            settings("my prod.toml", "my prod.lock", None).flags(),
            " --profile 'my prod.toml'"
        );
    }
}
