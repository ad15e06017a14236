//! `ahi-edge status`: every resource in the lockfile, read live and in
//! parallel. Exit 0 when healthy, 4 when something is missing or drifted.
//! Reads the lockfile without taking its lock, so it works while `up` or
//! `down` runs.

use std::fmt;

use serde::Serialize;

use super::session;
use crate::error::{Error, ExitStatus};
use crate::lockfile::{self, Lockfile};
use crate::output::Printer;
use crate::settings::Settings;
use crate::stack::inspect::{self, ResourceStatus};

/// `status --json` (schema documented in docs/status.md).
#[derive(Debug, Serialize)]
pub struct StatusReport {
    /// Bumped when a field changes meaning or goes away.
    pub schema: u32,
    pub stack: String,
    pub lockfile: String,
    /// False when the lockfile does not exist or records nothing.
    pub deployed: bool,
    /// True when nothing is missing, drifted, incomplete or unreadable.
    pub healthy: bool,
    pub resources: Vec<ResourceStatus>,
    pub certificates: Vec<CertificateStatus>,
}

#[derive(Debug, Serialize)]
pub struct CertificateStatus {
    pub arn: String,
    /// ACM's status (`ISSUED`, `PENDING_VALIDATION`...), or `missing`.
    pub status: String,
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.deployed {
            return writeln!(
                f,
                "stack {}: nothing deployed ({} holds no resources)",
                self.stack, self.lockfile
            );
        }
        writeln!(
            f,
            "stack {}: {}",
            self.stack,
            if self.healthy {
                "healthy"
            } else {
                "NEEDS ATTENTION"
            }
        )?;
        writeln!(f, "{:<24} {:<34} {:<18} DETAIL", "RESOURCE", "KIND", "HEALTH")?;
        for r in &self.resources {
            let mut detail = r.detail.clone();
            if !r.drift.is_empty() {
                detail = format!(
                    "differs: {}{}",
                    r.drift.join(", "),
                    if detail.is_empty() {
                        String::new()
                    } else {
                        format!("; {detail}")
                    }
                );
            }
            if let Some(replicas) = &r.replicas {
                let counts: Vec<String> = replicas
                    .iter()
                    .map(|(region, n)| format!("{region}={n}"))
                    .collect();
                let text = if counts.is_empty() {
                    "no replicas".to_string()
                } else {
                    format!("replicas {}", counts.join(" "))
                };
                detail = if detail.is_empty() {
                    text
                } else {
                    format!("{detail}; {text}")
                };
            }
            writeln!(f, "{:<24} {:<34} {:<18} {detail}", r.id, r.kind, r.health)?;
        }
        for c in &self.certificates {
            writeln!(f, "certificate {} {}", c.arn, c.status)?;
        }
        Ok(())
    }
}

pub fn run(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Error> {
    let profile = session::profile(settings, printer)?;
    let lock = read(settings, &profile.stack.name)?;
    let report = session::runtime()?.block_on(async {
        let deployed = !lock.resources.is_empty();
        let mut report = StatusReport {
            schema: 1,
            stack: profile.stack.name.clone(),
            lockfile: settings.lockfile.display().to_string(),
            deployed,
            healthy: true,
            resources: Vec::new(),
            certificates: Vec::new(),
        };
        if !deployed {
            return Ok::<_, Error>(report);
        }
        let ctx = session::read_only(settings, &profile, &lock).await?;
        let looks = lock
            .resources
            .iter()
            .map(|(id, entry)| inspect::entry(&ctx, id, entry));
        let (resources, certificates) =
            tokio::join!(futures_util::future::join_all(looks), inspect::certificates(&ctx));
        report.healthy = !resources.iter().any(ResourceStatus::needs_attention)
            && certificates.iter().all(|(_, s)| s == "ISSUED");
        report.resources = resources;
        report.certificates = certificates
            .into_iter()
            .map(|(arn, status)| CertificateStatus { arn, status })
            .collect();
        Ok(report)
    })?;
    printer.result(&report)?;
    Ok(if report.healthy {
        ExitStatus::Success
    } else {
        ExitStatus::Drift
    })
}

/// The lockfile as it is on disk, without taking the run lock; none yet is empty.
pub fn read(settings: &Settings, stack: &str) -> Result<Lockfile, Error> {
    match lockfile::read(&settings.lockfile)? {
        Some(lock) if lock.stack != stack => Err(Error::LockfileStackMismatch {
            path: settings.lockfile.clone(),
            found: lock.stack,
            expected: stack.to_string(),
        }),
        Some(lock) => Ok(lock),
        None => Ok(Lockfile::new(stack)),
    }
}
