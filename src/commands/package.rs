//! `ahi-edge package authorizer`: writes exactly the zip `up` deploys.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::authorizer::{self, AuthorizerConfig};
use crate::error::{Error, ExitStatus};
use crate::output::Printer;
use crate::profile;
use crate::settings::Settings;

#[derive(Debug, Serialize)]
pub struct PackageReport {
    pub path: String,
    pub bytes: usize,
    pub sha256: String,
}

impl fmt::Display for PackageReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wrote {} ({} bytes, sha256 {})",
            self.path, self.bytes, self.sha256
        )
    }
}

pub fn authorizer(settings: &Settings, printer: &Printer, out: &Path) -> Result<ExitStatus, Error> {
    let (profile, warnings) = profile::load(&settings.profile)?;
    for warning in &warnings {
        printer.problem(warning);
    }
    let Some(config) = AuthorizerConfig::from_profile(&profile) else {
        return Err(Error::Refused {
            path: settings.profile.clone(),
            reason:
                "auth.mode = \"none\": this profile deploys no authorizer, so there is nothing to package"
                    .into(),
            fix: "set auth.mode to \"cognito_jwt\" or \"oidc\" to use the edge authorizer".into(),
        });
    };
    let bytes = authorizer::package(&config, authorizer::BUNDLE).map_err(|e| Error::Refused {
        path: out.to_path_buf(),
        reason: e.to_string(),
        fix: "shorten the profile's auth lists, or report the bundle size as a bug".into(),
    })?;
    std::fs::write(out, &bytes).map_err(|e| Error::io(format!("writing {}", out.display()), e))?;
    printer.result(&PackageReport {
        path: out.display().to_string(),
        bytes: bytes.len(),
        sha256: authorizer::sha256_hex(&bytes),
    })?;
    Ok(ExitStatus::Success)
}
