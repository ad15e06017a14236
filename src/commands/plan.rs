//! `ahi-edge plan`: what `up` would do, from the profile vs the lockfile vs
//! what is live. Changes nothing. Exit 0 when nothing would change, 4 when
//! something would.

use std::fmt;

use serde::Serialize;

use super::session;
use crate::error::{Error, ExitStatus};
use crate::kinds::edge_function;
use crate::lockfile::Lockfile;
use crate::output::Printer;
use crate::settings::Settings;
use crate::stack::inspect::{self, Step};
use crate::stack::progress::Progress;
use crate::stack::{Ctx, Ledger, healthimaging};

#[derive(Debug, Serialize)]
pub struct Plan {
    pub stack: String,
    pub changes: usize,
    pub resources: Vec<Step>,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in self.resources.iter().filter(|s| s.action != "unchanged") {
            let fields = if s.fields.is_empty() {
                String::new()
            } else {
                format!(" ({})", s.fields.join(", "))
            };
            writeln!(f, "{:<10} {:<24} {}{fields}", s.action, s.id, s.kind)?;
        }
        let same = self.resources.iter().filter(|s| s.action == "unchanged").count();
        writeln!(
            f,
            "stack {}: {} to change, {same} unchanged",
            self.stack, self.changes
        )
    }
}

pub fn run(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Error> {
    let profile = session::profile(settings, printer)?;
    let lock =
        session::snapshot(settings, Some(&profile))?.unwrap_or_else(|| Lockfile::new(&profile.stack.name));
    let package = session::package(settings, &profile)?;
    let package_sha = package.as_deref().map(edge_function::Spec::code_sha256);
    let instances = healthimaging::instances(&profile);
    let plan = session::runtime()?.block_on(async {
        let (clients, account) = session::clients(settings).await?;
        let refused = inspect::refusals(&profile, &instances, &lock, &account, package_sha.clone());
        if !refused.is_empty() {
            return Err(super::up::refusal(settings, &refused));
        }
        let ctx = Ctx::new(
            &profile.stack.name,
            clients,
            account,
            Ledger::ReadOnly(lock.clone()),
            Progress::silent(),
            None,
        );
        let steps = inspect::plan(&ctx, &profile, &instances, &lock, package_sha).await;
        let changes = steps.iter().filter(|s| s.action != "unchanged").count();
        Ok::<_, Error>(Plan {
            stack: profile.stack.name.clone(),
            changes,
            resources: steps,
        })
    })?;
    printer.result(&plan)?;
    Ok(if plan.changes == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Drift
    })
}
