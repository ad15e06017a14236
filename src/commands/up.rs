//! `ahi-edge up`: creates or updates the whole stack, concurrently where
//! independent, recording every state change in the lockfile so a killed or
//! interrupted run resumes where it stopped.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::session;
use crate::engine::graph::Outcome;
use crate::error::{Error, ExitStatus};
use crate::output::Printer;
use crate::settings::Settings;
use crate::stack::progress::Progress;
use crate::stack::teardown::{self, Options};
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
    /// Resources the profile no longer uses, and what became of them
    /// (`deleted`, `awaiting replicas: ...`, `kept: ...`).
    pub removed: BTreeMap<String, String>,
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
        for (id, what) in &self.removed {
            writeln!(f, "no longer in the profile: {id}: {what}")?;
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
        let removed = if outcomes.values().all(|o| matches!(o, Outcome::Done)) {
            prune(&ctx, &nodes).await
        } else {
            BTreeMap::new()
        };
        ctx.progress.clear();
        let mut report = report(&ctx, &outcomes, settings);
        report.removed = removed;
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
        removed: BTreeMap::new(),
    }
}

/// Deletes what the lockfile records but the profile no longer uses, once
/// the rest is up (so the distribution has stopped referencing it). Only
/// the authorizer is removed this way: a Lambda@Edge function still
/// replicated stays `awaiting-replicas` for the next `up` or `down`. A
/// change of network kind replaces the VPC under the ALB and the tasks,
/// which takes `down` then `up`; it is reported, not done.
async fn prune(ctx: &Ctx<'_>, nodes: &[&shape::Node]) -> BTreeMap<String, String> {
    let unused: Vec<String> = ctx
        .lock()
        .resources
        .keys()
        .filter(|id| !nodes.iter().any(|n| n.id == id.as_str()))
        .cloned()
        .collect();
    let (prunable, kept): (Vec<String>, Vec<String>) = unused
        .into_iter()
        .partition(|id| shape::get(id).is_some_and(|n| n.when == shape::When::Authorizer));
    let mut out: BTreeMap<String, String> = kept
        .into_iter()
        .map(|id| {
            (
                id,
                "kept: changing [network] replaces what runs in it; run `ahi-edge down` then `ahi-edge up`"
                    .into(),
            )
        })
        .collect();
    let opts = Options {
        wait_replicas: false,
        timeout: Duration::ZERO,
        purge_logs: false,
    };
    let graph = shape::graph(prunable.iter().map(String::as_str)).reversed();
    let outcomes = graph
        .run(CONCURRENCY, |id| {
            let opts = &opts;
            async move { teardown::node(ctx, &id, opts).await }
        })
        .await;
    for (id, outcome) in outcomes {
        let what = match outcome {
            Outcome::Done => "deleted".to_string(),
            Outcome::Failed(StepError::AwaitingReplicas(why)) => {
                format!("awaiting replicas ({why}); the next `ahi-edge up` or `down` deletes it")
            }
            Outcome::Failed(e) => format!("not deleted: {e}"),
            Outcome::Skipped { because } => format!("waits for {because}"),
        };
        out.insert(id, what);
    }
    out
}
