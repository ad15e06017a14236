//! `ahi-edge validate`: checks a profile offline and lists every problem.
//! When the lockfile exists it is checked too (readable, schema, same stack),
//! so a broken lockfile is found before `up` or `down` needs it.

use std::fmt;

use serde::Serialize;

use crate::error::{Error, ExitStatus};
use crate::lockfile;
use crate::output::Printer;
use crate::profile::{self, AlbOrigin, AuthMode, Problem, Profile, Severity};
use crate::settings::Settings;

#[derive(Debug, Serialize)]
pub struct ValidateReport {
    pub file: String,
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    pub problems: Vec<Problem>,
    /// A one-line summary of what the profile deploys, when it is valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lockfile: Option<String>,
}

impl fmt::Display for ValidateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.problems {
            writeln!(f, "{problem}")?;
        }
        if self.valid {
            write!(f, "{}: valid", self.file)?;
            if self.warnings > 0 {
                write!(f, " with {} warning(s)", self.warnings)?;
            }
            if let Some(summary) = &self.summary {
                write!(f, "\n  {summary}")?;
            }
            if let Some(lock) = &self.lockfile {
                write!(f, "\n  {lock}")?;
            }
            Ok(())
        } else {
            write!(
                f,
                "{}: {} error(s), {} warning(s); fix them and run `ahi-edge validate` again",
                self.file, self.errors, self.warnings
            )
        }
    }
}

pub fn run(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Error> {
    let path = &settings.profile;
    let report = profile::check(path, &profile::read_text(path)?);
    let count = |s: Severity| report.problems.iter().filter(|p| p.severity == s).count();
    let mut out = ValidateReport {
        file: path.display().to_string(),
        valid: report.profile.is_some(),
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        summary: report.profile.as_ref().map(summary),
        lockfile: None,
        problems: report.problems,
    };
    if let Some(profile) = &report.profile {
        out.lockfile = check_lockfile(settings, profile)?;
    }
    printer.result(&out)?;
    Ok(if out.valid {
        ExitStatus::Success
    } else {
        ExitStatus::BadInput
    })
}

fn check_lockfile(settings: &Settings, profile: &Profile) -> Result<Option<String>, Error> {
    // Offline: an S3 state is named, not read (`ahi-edge state show` reads it).
    if let crate::state::Location::S3(at) = super::session::location(settings, Some(profile))? {
        return Ok(Some(format!(
            "state in S3: {} ({}); `ahi-edge state show` reads it",
            at.url(),
            at.region
        )));
    }
    let path = &settings.lockfile;
    let Some(lock) = lockfile::read(path)? else {
        return Ok(None);
    };
    if lock.stack != profile.stack.name {
        return Err(Error::LockfileStackMismatch {
            path: path.clone(),
            found: lock.stack,
            expected: profile.stack.name.clone(),
        });
    }
    // What the stack cannot absorb in place (a region or network change),
    // offline: the account comes from the ARNs the lockfile recorded, and the
    // authorizer's code is not compared (no field of it needs replacing).
    let account = lock
        .resources
        .values()
        .filter_map(|e| e.arn.as_deref())
        .find_map(|arn| arn.split(':').nth(4).filter(|a| !a.is_empty()))
        .unwrap_or_default()
        .to_string();
    let instances = crate::stack::instances(profile, &lock);
    let refused = crate::stack::inspect::refusals(profile, &instances, &lock, &account, Some(String::new()));
    if !refused.is_empty() {
        return Err(super::up::refusal(settings, &refused));
    }
    Ok(Some(format!(
        "lockfile {}: {} resource(s) recorded",
        path.display(),
        lock.resources.len()
    )))
}

fn summary(p: &Profile) -> String {
    let routes = match p.explicit_routes {
        true => format!(
            ", {} route(s) to {} origin(s)",
            p.routes.routes.len(),
            p.routes.origins.len()
        ),
        false => String::new(),
    };
    let Some(hi) = &p.delivery else {
        return format!(
            "stack {} (a reverse proxy, regional resources in {}){routes}",
            p.stack.name, p.region
        );
    };
    let auth = match &hi.auth.mode {
        AuthMode::CognitoJwt(c) => format!("Cognito JWT ({})", c.user_pool_id),
        AuthMode::Oidc(o) => format!("OIDC ({})", o.issuer),
        AuthMode::None => "no authorizer".into(),
    };
    let alb = match &hi.alb {
        AlbOrigin::Https { hostname, .. } => format!("HTTPS to {hostname}"),
        AlbOrigin::Http => "HTTP (acknowledged)".into(),
    };
    format!(
        "stack {}, HealthImaging {}, {auth}, CloudFront -> ALB {alb}, proxy {} cpu / {} MiB x{}{routes}",
        p.stack.name, hi.healthimaging.region, hi.proxy.cpu, hi.proxy.memory, hi.proxy.desired_count
    )
}
