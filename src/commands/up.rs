//! `ahi-edge up`: creates or updates the whole stack, concurrently where
//! independent, recording every state change in the lockfile so a killed or
//! interrupted run resumes where it stopped.

use crate::engine::kind::Output;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::outcome::ResourceResult;
use super::session;
use crate::cli::UpArgs;
use crate::engine::graph::Outcome;
use crate::engine::progress::Progress;
use crate::error::{Error, ExitStatus};
use crate::kinds::edge_function;
use crate::output::Printer;
use crate::settings::Settings;
use crate::stack::apply::{self, Change, Up};
use crate::stack::instance::Instance;
use crate::stack::teardown::{self, Ended, TornDown};
use crate::stack::{Ctx, Ledger, StepError, output};

#[derive(Debug, Serialize)]
pub struct UpReport {
    /// The document's version (docs/status.md).
    pub schema: u32,
    pub stack: String,
    pub url: Option<String>,
    pub distribution_id: Option<String>,
    pub alb_dns_name: Option<String>,
    /// Each resource of the profile: created / updated / unchanged /
    /// failed / skipped, with the why apart.
    pub resources: Vec<ResourceResult>,
    /// The waits for AWS (deploys, rollouts): ready / failed / skipped.
    pub waits: Vec<ResourceResult>,
    pub next_steps: Vec<String>,
    pub complete: bool,
    /// Resources the profile no longer uses, and what became of them:
    /// deleted / kept / awaiting-replicas / failed / skipped.
    pub removed: Vec<ResourceResult>,
}

impl fmt::Display for UpReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &self.resources {
            *counts.entry(r.status).or_insert(0) += 1;
        }
        let counts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        if self.complete {
            writeln!(
                f,
                "stack {} is up: {} resources, {}",
                self.stack,
                self.resources.len(),
                counts.join(", ")
            )?;
        } else {
            writeln!(f, "stack {} is NOT complete:", self.stack)?;
            for result in self
                .resources
                .iter()
                .chain(&self.waits)
                .filter(|r| r.unfinished())
            {
                writeln!(f, "  {result}")?;
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
        for result in &self.removed {
            writeln!(f, "no longer in the profile: {result}")?;
        }
        for step in &self.next_steps {
            writeln!(f, "next: {step}")?;
        }
        Ok(())
    }
}

pub fn run(settings: &Settings, printer: &Printer, args: &UpArgs) -> Result<ExitStatus, Error> {
    let mut profile = session::profile_for_up(settings, printer)?;
    let package = session::package(settings, &profile)?;
    let store = session::store(settings, printer, &profile, "up")?;
    if let Some(rotation) = &store.state().rotation {
        return Err(rotating(settings, rotation));
    }
    let runtime = session::runtime()?;
    let (clients, account) = runtime.block_on(session::clients_for(settings, printer, &mut profile))?;
    let mut instances = crate::stack::instances(&profile, store.state());
    // --no-wait: the readiness waits are leaves of the graph (nothing needs
    // them), so leaving them out changes no other step.
    let skipped_waits: Vec<String> = match args.no_wait {
        true => instances
            .iter()
            .filter(|i| i.is_wait())
            .map(|i| i.id.clone())
            .collect(),
        false => Vec::new(),
    };
    instances.retain(|i| !skipped_waits.contains(&i.id));
    runtime.block_on(async {
        let package_sha = package.as_deref().map(edge_function::Spec::code_sha256);
        session::before_first_write(
            settings,
            printer,
            (&clients, &account),
            session::Desired {
                profile: &profile,
                instances: &instances,
                lock: store.state(),
                package_sha: package_sha.clone(),
            },
        )
        .await?;
        let ctx = Ctx::new(
            &profile.stack.name,
            clients,
            account,
            Ledger::Writable(store),
            Progress::new(printer.progress()),
            package,
        );
        ctx.progress.expect(instances.iter().map(|i| (i.id.clone(), typical(i))));
        let up = Up {
            profile: &profile,
            package_sha,
            ids: instances.iter().map(|i| i.id.clone()).collect(),
        };
        let work = apply::walk(&ctx, &up, &instances);
        let Some(apply::Walked { outcomes, changes }) = session::unless_interrupted(
            &ctx.progress,
            printer,
            format!("every finished step is recorded in the lockfile; run `ahi-edge up{}` again to resume", settings.flags()),
            work,
        )
        .await
        else {
            return Ok(ExitStatus::Interrupted);
        };
        let all_done = outcomes.values().all(|o| matches!(o, Outcome::Done));
        // What the profile no longer uses may still be named by the config
        // CloudFront is deploying: it goes only after the deploy was waited for.
        let removed = match (all_done, skipped_waits.is_empty()) {
            (true, true) => pruned(teardown::prune(&ctx, &instances).await),
            (true, false) => not_pruned(&ctx, &instances),
            (false, _) => Vec::new(),
        };
        ctx.progress.clear();
        if let Some(why) = crate::state::guard::stopped() {
            return Err(Error::StateChanged(why.to_string()));
        }
        let mut report = report(&ctx, &profile, &instances, &outcomes, &changes, settings);
        report.removed = removed;
        if report.complete && !skipped_waits.is_empty() {
            for id in &skipped_waits {
                report.waits.push(ResourceResult::new(
                    id,
                    "skipped",
                    Some("not waited for (--no-wait); `ahi-edge status` exits 3 until it is ready".into()),
                ));
            }
            report.next_steps.insert(
                0,
                format!(
                    "ahi-edge status{} exits 3 (deploying) until CloudFront, the ALB and the service are ready, then 0; \
                     `ahi-edge up{}` then waits for nothing and removes what the profile no longer uses",
                    settings.flags(),
                    settings.flags()
                ),
            );
        }
        printer.result(&report)?;
        Ok(if report.complete {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        })
    })
}

/// Refused before any write: `up` would rebuild the rule, the proxy and the
/// distribution from the secret's current version, dropping the value a
/// rotation may have CloudFront send meanwhile.
fn rotating(settings: &Settings, rotation: &crate::lockfile::Rotation) -> Error {
    Error::Refused {
        path: settings.lockfile.clone(),
        reason: format!(
            "records an origin secret rotation in progress (started {}, phase {}: {}); `up` would undo it; nothing was changed",
            rotation.started_at,
            rotation.phase.as_str(),
            rotation.phase.describe()
        ),
        fix: format!(
            "next: `ahi-edge rotate-origin-secret{}` resumes and finishes it, then run `ahi-edge up{}`",
            settings.flags(),
            settings.flags()
        ),
    }
}

/// Refused before any write: what the stack cannot absorb in place.
pub fn refusal(settings: &crate::settings::Settings, refused: &[String]) -> Error {
    Error::Refused {
        path: settings.profile.clone(),
        reason: format!(
            "the profile asks for changes the stack cannot make in place; nothing was changed:\n      {}",
            refused.join("\n      ")
        ),
        fix: "put the recorded values back, or move the stack: `ahi-edge down --wait-replicas`, then `ahi-edge up` (docs/runbooks.md, \"Moving a stack\")".into(),
    }
}

fn typical(inst: &Instance) -> Duration {
    let t = crate::stack::registry::kind(inst.kind).map(|k| k.typical());
    Duration::from_secs(match (t, inst.is_wait()) {
        (Some(t), true) => t.ready,
        (Some(t), false) => t.create,
        (None, _) => 2,
    })
}

fn report(
    ctx: &Ctx,
    profile: &crate::profile::Profile,
    instances: &[Instance],
    outcomes: &BTreeMap<String, Outcome<StepError>>,
    changes: &BTreeMap<String, Change>,
    settings: &Settings,
) -> UpReport {
    let lock = ctx.lock();
    let (mut resources, mut waits) = (Vec::new(), Vec::new());
    for (id, o) in outcomes {
        let wait = instances.iter().any(|i| &i.id == id && i.is_wait());
        let result = match o {
            Outcome::Done if wait => ResourceResult::new(id, "ready", None),
            Outcome::Done => match changes.get(id) {
                // Found by name or tags after an interrupted run: made by `up`.
                Some(Change::Adopted) => ResourceResult::new(
                    id,
                    "created",
                    Some("adopted: an earlier, interrupted run created it".into()),
                ),
                Some(c) => ResourceResult::new(id, c.as_str(), None),
                None => ResourceResult::new(id, "unchanged", None),
            },
            Outcome::Failed(e) => ResourceResult::new(id, "failed", Some(e.to_string())),
            Outcome::Skipped { because } => {
                ResourceResult::new(id, "skipped", Some(format!("needs {because}")))
            }
        };
        if wait {
            waits.push(result)
        } else {
            resources.push(result)
        }
    }
    let complete = outcomes.values().all(|o| matches!(o, Outcome::Done));
    let domain = output(&lock, "distribution", crate::kinds::distribution::DOMAIN_NAME).ok();
    let flags = settings.flags();
    let mut next_steps = Vec::new();
    if complete {
        next_steps.push(format!("ahi-edge status{flags}"));
        if let Some(crate::profile::AlbOrigin::Https { hostname, .. }) =
            profile.delivery.as_ref().map(|hi| &hi.alb)
            && let Ok(dns) = output(&lock, "load_balancer", crate::kinds::load_balancer::DNS_NAME)
        {
            next_steps.push(format!("create DNS record {hostname} CNAME {dns}"));
        }
        if let Some(d) = &domain {
            for alias in &profile.cloudfront.aliases {
                next_steps.push(format!("create DNS record {alias} CNAME {d}"));
            }
        }
    } else {
        next_steps.push(format!(
            "fix what failed above, then run `ahi-edge up{flags}` again: it resumes from the lockfile"
        ));
    }
    UpReport {
        schema: 1,
        stack: ctx.stack().to_string(),
        url: domain.as_ref().map(|d| format!("https://{d}")),
        distribution_id: output(&lock, "distribution", Output::ID).ok(),
        alb_dns_name: output(&lock, "load_balancer", crate::kinds::load_balancer::DNS_NAME).ok(),
        resources,
        waits,
        next_steps,
        complete,
        removed: Vec::new(),
    }
}

/// `--no-wait`: what the lockfile records but the profile no longer
/// produces stays until an `up` that waits for the deploy.
fn not_pruned(ctx: &Ctx, instances: &[Instance]) -> Vec<ResourceResult> {
    teardown::unused(&ctx.lock(), instances)
        .iter()
        .map(|id| {
            ResourceResult::new(
                id,
                "skipped",
                Some("kept until the deploy is waited for: the next `ahi-edge up` deletes it".into()),
            )
        })
        .collect()
}

/// What became of each resource the profile no longer uses.
fn pruned(torn: TornDown) -> Vec<ResourceResult> {
    let TornDown { outcomes, ended } = torn;
    outcomes
        .into_iter()
        .map(|(id, outcome)| match outcome {
            Outcome::Done => match ended.get(&id) {
                Some(Ended::Kept(why)) => ResourceResult::new(&id, "kept", Some(why.clone())),
                Some(Ended::LeftAlone(why)) => {
                    ResourceResult::new(&id, "kept", Some(format!("left alone: {why}")))
                }
                _ => ResourceResult::new(&id, "deleted", None),
            },
            Outcome::Failed(StepError::AwaitingReplicas(why)) => ResourceResult::new(
                &id,
                "awaiting-replicas",
                Some(format!("{why}; the next `ahi-edge up` or `down` deletes it")),
            ),
            Outcome::Failed(e) => ResourceResult::new(&id, "failed", Some(format!("not deleted: {e}"))),
            Outcome::Skipped { because } => {
                ResourceResult::new(&id, "skipped", Some(format!("waits for {because}")))
            }
        })
        .collect()
}
