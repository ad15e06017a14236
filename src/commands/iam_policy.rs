//! `ahi-edge iam-policy`: the least-privilege IAM policy a deployer needs
//! for `up`, `plan`, `status` and `down` of the profile, as JSON on stdout
//! (attach it to the role or user your runbooks run as); with `--split`, the
//! same statements as an array of documents each within IAM's managed policy
//! size; with `--boundary`, the permissions boundary an administrator creates
//! once per stack. Offline.

use std::fmt;

use serde::Serialize;

use super::session;
use crate::cli::IamPolicyArgs;
use crate::error::{Error, ExitStatus};
use crate::output::Printer;
use crate::settings::Settings;

/// The policy document itself is the output, text and `--json` alike.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct PolicyDocument(serde_json::Value);

impl fmt::Display for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string_pretty(&self.0).map_err(|_| fmt::Error)?;
        writeln!(f, "{text}")
    }
}

pub fn run(settings: &Settings, printer: &Printer, args: &IamPolicyArgs) -> Result<ExitStatus, Error> {
    let mut profile = session::profile(settings, printer)?;
    // `--state` names the state the policy must reach, as every command would.
    if let crate::state::Location::S3(at) = session::location(settings, Some(&profile))? {
        profile.state = Some(at);
    }
    let document = if args.boundary {
        crate::iam_policy::boundary(&profile)
    } else if args.split {
        serde_json::Value::Array(crate::iam_policy::split(
            &crate::iam_policy::policy(&profile),
            crate::iam_policy::MANAGED_POLICY_MAX,
        ))
    } else {
        crate::iam_policy::policy(&profile)
    };
    printer.result(&PolicyDocument(document))?;
    Ok(ExitStatus::Success)
}
