//! `ahi-edge plan`: what `up` would do, from the profile vs the lockfile vs
//! what is live. Changes nothing. Exit 0 when nothing would change, 4 when
//! something would.

use std::fmt;

use serde::Serialize;

use super::session;
use crate::engine::progress::Progress;
use crate::error::{Error, ExitStatus};
use crate::kinds::edge_function;
use crate::lockfile::Lockfile;
use crate::output::Printer;
use crate::settings::Settings;
use crate::stack::inspect::{self, Step};
use crate::stack::{Ctx, Ledger};

#[derive(Debug, Serialize)]
pub struct Plan {
    /// The document's version (docs/status.md).
    pub schema: u32,
    pub stack: String,
    /// Where the plan was read: the account, the regions and the endpoint.
    pub account: String,
    pub regions: Regions,
    /// `AWS`, or the `--endpoint-url` given.
    pub endpoint: String,
    pub changes: usize,
    pub counts: Counts,
    pub resources: Vec<Step>,
    /// The distribution's routes in evaluation order, as `up` would leave them.
    pub routes: Vec<super::routes::RouteRow>,
    /// The `Cache-Control` viewers get on the HealthImaging behaviour once
    /// `up` has run; null for a stack without one.
    pub viewer_cache_control: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Regions {
    pub edge: &'static str,
    pub regional: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub unchanged: usize,
    /// `refused` and `unknown` steps: `up` cannot plan them.
    pub other: usize,
}

/// A JSON value on one line, cut to fit a terminal.
fn short(value: &serde_json::Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "plan for stack {} in account {} (edge {}, regional {}; endpoint {})",
            self.stack, self.account, self.regions.edge, self.regions.regional, self.endpoint
        )?;
        if self.routes.len() > 1 {
            writeln!(f, "routes, in the order CloudFront tries them:")?;
            for row in &self.routes {
                writeln!(f, "{row}")?;
            }
        }
        if let Some(v) = &self.viewer_cache_control {
            writeln!(
                f,
                "viewers get Cache-Control: {v} (the edge caches by the origin's)"
            )?;
        }
        for s in self.resources.iter().filter(|s| s.action != "unchanged") {
            let fields = if s.fields.is_empty() || !s.changes.is_empty() {
                String::new()
            } else {
                format!(" ({})", s.fields.join(", "))
            };
            let deploy = s.deploy.map(|d| format!(" [{d}]")).unwrap_or_default();
            writeln!(f, "{:<10} {:<24} {}{fields}{deploy}", s.action, s.id, s.kind)?;
            if let Some(w) = &s.warning {
                writeln!(f, "    WARNING: {w}")?;
            }
            for c in &s.changes {
                writeln!(f, "    {}: {} -> {}", c.field, short(&c.old), short(&c.new))?;
            }
        }
        let c = &self.counts;
        write!(
            f,
            "stack {}: {} to create, {} to update, {} to replace, {} to delete, {} unchanged",
            self.stack, c.create, c.update, c.replace, c.delete, c.unchanged
        )?;
        if c.other > 0 {
            write!(f, ", {} refused or unreadable", c.other)?;
        }
        writeln!(f)
    }
}

pub fn run(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Error> {
    let mut profile = session::profile(settings, printer)?;
    let lock = session::snapshot(settings, printer, Some(&profile))?
        .unwrap_or_else(|| Lockfile::new(&profile.stack.name));
    let package = session::package(settings, &profile)?;
    if let crate::state::Location::S3(at) = session::location(settings, Some(&profile))? {
        match crate::state::s3::safety(&at, &settings.aws) {
            Ok(warnings) => warnings.into_iter().for_each(|w| printer.warn(w)),
            Err(e) => printer.warn(format!("could not check the state bucket {}: {e}", at.bucket)),
        }
    }
    let package_sha = package.as_deref().map(edge_function::Spec::code_sha256);
    let runtime = session::runtime()?;
    let (clients, account) = runtime.block_on(session::clients_for(settings, printer, &mut profile))?;
    let instances = crate::stack::instances(&profile, &lock);
    let plan = runtime.block_on(async {
        let bucket_warnings = session::before_first_write(
            settings,
            printer,
            (&clients, &account),
            session::Desired {
                profile: &profile,
                instances: &instances,
                lock: &lock,
                package_sha: package_sha.clone(),
            },
        )
        .await?;
        let ctx = Ctx::new(
            &profile.stack.name,
            clients,
            account,
            Ledger::ReadOnly(lock.clone()),
            Progress::silent(),
            None,
        );
        let mut steps = inspect::plan(&ctx, &profile, &instances, &lock, package_sha).await;
        for (id, warning) in bucket_warnings {
            if let Some(step) = steps.iter_mut().find(|s| s.id == id && s.warning.is_none()) {
                step.warning = Some(warning);
            }
        }
        let changes = steps.iter().filter(|s| s.action != "unchanged").count();
        let mut counts = Counts::default();
        for s in &steps {
            match s.action.as_str() {
                "create" => counts.create += 1,
                "update" => counts.update += 1,
                "replace" => counts.replace += 1,
                "delete" => counts.delete += 1,
                "unchanged" => counts.unchanged += 1,
                _ => counts.other += 1,
            }
        }
        Ok::<_, Error>(Plan {
            schema: 1,
            stack: profile.stack.name.clone(),
            account: ctx.account.clone(),
            regions: Regions {
                edge: crate::aws::EDGE_REGION,
                regional: profile.region.clone(),
            },
            endpoint: settings.aws.endpoint_url.clone().unwrap_or_else(|| "AWS".into()),
            changes,
            counts,
            resources: steps,
            routes: super::routes::rows(&profile),
            viewer_cache_control: profile
                .delivery
                .is_some()
                .then(|| profile.cloudfront.viewer_cache_control.clone()),
        })
    })?;
    printer.result(&plan)?;
    Ok(if plan.changes == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Drift
    })
}
