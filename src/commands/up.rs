//! `ahi-edge up`: creates or updates the whole stack, concurrently where
//! independent, recording every state change in the lockfile so a killed or
//! interrupted run resumes where it stopped.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::session;
use crate::engine::graph::Outcome;
use crate::error::{Error, ExitStatus};
use crate::output::Printer;
use crate::settings::Settings;
use crate::stack::progress::Progress;
use crate::stack::{Ctx, Ledger, StepError, apply, output, shape};

/// How many nodes run at once: enough for every independent branch.
const CONCURRENCY: usize = 12;

#[derive(Debug, Serialize)]
pub struct UpReport {
    pub stack: String,
    pub url: Option<String>,
    pub distribution_id: Option<String>,
    pub alb_dns_name: Option<String>,
    /// Logical id -> done / failed: why / skipped: because.
    pub resources: BTreeMap<String, String>,
    pub next_steps: Vec<String>,
    pub complete: bool,
}

impl fmt::Display for UpReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.complete {
            writeln!(f, "stack {} is up", self.stack)?;
        } else {
            writeln!(f, "stack {} is NOT complete:", self.stack)?;
            for (id, outcome) in self.resources.iter().filter(|(_, o)| *o != "done") {
                writeln!(f, "  {id}: {outcome}")?;
            }
        }
        if let Some(url) = &self.url {
            writeln!(f, "url: {url}")?;
        }
        if let Some(id) = &self.distribution_id {
            writeln!(f, "distribution: {id}")?;
        }
        if let Some(dns) = &self.alb_dns_name {
            writeln!(f, "alb: {dns}")?;
        }
        for step in &self.next_steps {
            writeln!(f, "next: {step}")?;
        }
        Ok(())
    }
}

pub fn run(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Error> {
    let profile = session::profile(settings, printer)?;
    let package = session::package(settings, &profile)?;
    let store = session::store(settings, &profile)?;
    session::runtime()?.block_on(async {
        let (clients, account) = session::clients(settings, &profile).await?;
        let ctx = Ctx::new(&profile, clients, account, Ledger::Writable(store), Progress::new(printer), package);
        let nodes = shape::for_profile(&profile);
        ctx.progress
            .expect(nodes.iter().map(|n| (n.id.to_string(), shape::typical(n))));
        let graph = shape::graph(nodes.iter().map(|n| n.id));
        let work = graph.run(CONCURRENCY, |id| {
            let ctx = &ctx;
            async move { apply::node(ctx, &id).await }
        });
        let outcomes = tokio::select! {
            outcomes = work => outcomes,
            _ = tokio::signal::ctrl_c() => {
                ctx.progress.clear();
                printer.warn("interrupted: every finished step is recorded in the lockfile; run `ahi-edge up` again to resume");
                return Ok(ExitStatus::Failure);
            }
        };
        ctx.progress.clear();
        let report = report(&ctx, &outcomes, settings);
        printer.result(&report)?;
        Ok(if report.complete {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        })
    })
}

fn report(ctx: &Ctx<'_>, outcomes: &BTreeMap<String, Outcome<StepError>>, settings: &Settings) -> UpReport {
    let lock = ctx.lock();
    let resources: BTreeMap<String, String> = outcomes
        .iter()
        .map(|(id, o)| {
            let text = match o {
                Outcome::Done => "done".to_string(),
                Outcome::Failed(e) => format!("failed: {e}"),
                Outcome::Skipped { because } => format!("skipped: needs {because}"),
            };
            (id.clone(), text)
        })
        .collect();
    let complete = outcomes.values().all(|o| matches!(o, Outcome::Done));
    let domain = output(&lock, "distribution", "domain_name").ok();
    let profile = settings.profile.display();
    let mut next_steps = Vec::new();
    if complete {
        next_steps.push(format!("ahi-edge status --profile {profile}"));
        if let crate::profile::AlbOrigin::Https { hostname, .. } = &ctx.profile.alb
            && let Ok(dns) = output(&lock, "load_balancer", "dns_name")
        {
            next_steps.push(format!("create DNS record {hostname} CNAME {dns}"));
        }
        if let Some(d) = &domain {
            for alias in &ctx.profile.cloudfront.aliases {
                next_steps.push(format!("create DNS record {alias} CNAME {d}"));
            }
        }
    } else {
        next_steps.push(format!(
            "fix what failed above, then run `ahi-edge up --profile {profile}` again: it resumes from the lockfile"
        ));
    }
    UpReport {
        stack: ctx.stack().to_string(),
        url: domain.as_ref().map(|d| format!("https://{d}")),
        distribution_id: output(&lock, "distribution", "id").ok(),
        alb_dns_name: output(&lock, "load_balancer", "dns_name").ok(),
        resources,
        next_steps,
        complete,
    }
}
