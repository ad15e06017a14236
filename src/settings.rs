//! Raw global flags -> resolved settings, in one place, before any work.

use std::path::PathBuf;

use crate::cli::GlobalArgs;
use crate::error::Error;
use crate::output::{Printer, Verbosity};
use crate::profile::formats;

#[derive(Debug, Clone)]
pub struct Settings {
    pub profile: PathBuf,
    pub lockfile: PathBuf,
    pub yes: bool,
    pub aws: AwsSettings,
}

/// What the AWS SDK config is built from (credential chain via aws-config).
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub region: Option<String>,
}

impl Settings {
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
        if let Some(region) = &args.region
            && !formats::is_region(region)
        {
            return Err(Error::BadFlag {
                flag: "--region",
                value: region.clone(),
                reason: "is not an AWS region".into(),
                fix: "use a region name such as us-east-1".into(),
            });
        }
        Ok(Settings {
            profile: args.profile.clone(),
            lockfile,
            yes: args.yes,
            aws: AwsSettings {
                endpoint_url,
                profile: args.aws_profile.clone(),
                region: args.region.clone(),
            },
        })
    }
}
