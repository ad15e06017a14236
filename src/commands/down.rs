//! `ahi-edge down`: tears the stack down in reverse dependency order,
//! independent branches at once, from the lockfile alone. Exit 0 when
//! nothing is left (the lockfile is removed), 3 when only Lambda@Edge
//! functions wait for CloudFront's replicas, 1 on failure.

use std::collections::BTreeMap;
use std::fmt;
use std::io::IsTerminal;

use serde::Serialize;

use super::outcome::ResourceResult;
use super::session;
use crate::cli::DownArgs;
use crate::engine::graph::Outcome;
use crate::engine::kind::{Options, Resource};
use crate::engine::progress::Progress;
use crate::error::{Error, ExitStatus};
use crate::kinds::log_bucket::LogBucket;
use crate::kinds::origin_bucket::OriginBucket;
use crate::lockfile::State;
use crate::names::StackNames;
use crate::output::Printer;
use crate::resources::s3_bucket;
use crate::settings::Settings;
use crate::stack::teardown::{self, Ended, TornDown};
use crate::stack::{Ctx, Ledger, StepError};

const LOG_BUCKET: &str = "log_bucket";

#[derive(Debug, Serialize)]
pub struct DownReport {
    /// The document's version (docs/status.md).
    pub schema: u32,
    pub stack: String,
    /// `done`, `awaiting-replicas` or `failed`.
    pub result: String,
    /// Each recorded resource: deleted / kept / awaiting-replicas / failed /
    /// skipped, with the why apart.
    pub resources: Vec<ResourceResult>,
    pub resume: Option<String>,
}

impl fmt::Display for DownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.result.as_str() {
            "done" => writeln!(f, "stack {} is gone; the lockfile was removed", self.stack)?,
            "awaiting-replicas" => writeln!(
                f,
                "stack {}: everything else is gone; Lambda@Edge waits for CloudFront to remove its replicas (typically minutes to hours):",
                self.stack
            )?,
            _ => writeln!(f, "stack {}: teardown did not finish:", self.stack)?,
        }
        for result in self
            .resources
            .iter()
            .filter(|r| !matches!(r.status, "deleted" | "kept"))
        {
            writeln!(f, "  {result}")?;
        }
        for result in self.resources.iter().filter(|r| r.status == "kept") {
            writeln!(f, "kept: {result}")?;
        }
        if let Some(resume) = &self.resume {
            writeln!(f, "finish with: {resume}")?;
        }
        Ok(())
    }
}

pub fn run(settings: &Settings, printer: &Printer, args: &DownArgs) -> Result<ExitStatus, Error> {
    // `down` works from the lockfile alone: the profile may be gone or changed.
    let profile = session::profile_if_present(settings, printer)?;
    let store = match &profile {
        Some(p) => session::store(settings, printer, p, "down")?,
        None => session::store_existing(settings, printer, "down")?.ok_or_else(|| Error::Refused {
            path: session::location(settings, None)
                .map_or_else(|_| settings.lockfile.clone(), |l| l.name().into()),
            reason: "there is no state here, and no profile".into(),
            fix: "pass --lockfile with the stack's lockfile, --state s3://BUCKET/KEY with its S3 state, or --profile with its profile".into(),
        })?,
    };
    let stack = store.state().stack.clone();
    if store.state().resources.is_empty() && !args.purge_logs && !args.purge_buckets {
        let path = store.describe();
        store.remove()?;
        printer.result(&DownReport {
            schema: 1,
            stack: stack.clone(),
            result: "done".into(),
            resources: Vec::new(),
            resume: None,
        })?;
        printer.info(format!("nothing was deployed ({path} held no resources)"));
        return Ok(ExitStatus::Success);
    }
    confirm(settings, &store.describe(), &stack, store.state().resources.len())?;
    let opts = Options {
        wait_replicas: args.wait_replicas,
        timeout: args.timeout,
        purge_logs: args.purge_logs,
        purge_buckets: args.purge_buckets,
    };
    session::runtime()?.block_on(async {
        let (clients, account) = session::clients(settings).await?;
        let ctx = Ctx::new(
            &stack,
            clients,
            account,
            Ledger::Writable(store),
            Progress::new(printer.progress()),
            None,
        );
        if opts.purge_logs
            && ctx.entry(LOG_BUCKET).is_none()
            && let Some(profile) = &profile
        {
            // A plain `down` kept the bucket and forgot it; it is still found
            // by its derived name and deleted only if it carries our tag.
            let region = profile.region.clone();
            let bucket = StackNames { stack: &stack }.log_bucket(&ctx.account, &region);
            ctx.change(|l| {
                l.record_intent(LOG_BUCKET, <LogBucket as Resource>::NAME, &region, &bucket, &[]);
                if let Some(e) = l.resources.get_mut(LOG_BUCKET) {
                    e.spec = serde_json::json!({ "name": bucket }).to_string();
                }
            })
            .map_err(|e| Error::step("recording the log bucket", e))?;
        }
        if opts.purge_buckets
            && let Some(profile) = &profile
        {
            // A plain `down` kept them and forgot them; each is still found
            // by its name, and taken back only if it carries our tag.
            for (id, region, bucket) in crate::stack::routes::created_buckets(profile) {
                let s3 = ctx.clients.s3(&region);
                let ours = async || -> Result<bool, crate::aws::AwsError> {
                    Ok(s3_bucket::exists(&s3, &bucket).await?
                        && crate::resources::owned(&s3_bucket::tags(&s3, &bucket).await?, &stack))
                };
                if ctx.entry(&id).is_some()
                    || !ours()
                        .await
                        .map_err(|e| Error::step("finding a route bucket", e.into()))?
                {
                    continue;
                }
                ctx.change(|l| {
                    l.record_intent(&id, <OriginBucket as Resource>::NAME, &region, &bucket, &[]);
                    l.set_state(&id, State::Deleting);
                    if let Some(e) = l.resources.get_mut(&id) {
                        e.spec = serde_json::json!({ "name": bucket }).to_string();
                    }
                })
                .map_err(|e| Error::step("recording a route bucket", e))?;
            }
        }
        if opts.purge_logs
            && ctx.entry("edge_function").is_none()
            && let Some(profile) = &profile
            && let Some(hi) = profile.delivery.as_ref().filter(|hi| hi.authorizer())
        {
            // The function went with an earlier `down`; its replicas' logs stayed.
            let name = StackNames { stack: &stack }.edge_function();
            crate::kinds::edge_function::purge_replica_logs(&ctx, &name, &hi.lambda_edge.replica_regions)
                .await
                .map_err(|e| Error::step("deleting the replicas' log groups", e))?;
        }
        let ids: Vec<String> = ctx.lock().resources.keys().cloned().collect();
        let work = teardown::walk(&ctx, &ids, &opts);
        let Some(TornDown { outcomes, ended }) = session::unless_interrupted(
            &ctx.progress,
            printer,
            format!(
                "what was deleted is recorded in the lockfile; run `ahi-edge down{}` again to resume",
                settings.flags()
            ),
            work,
        )
        .await
        else {
            return Ok(ExitStatus::Interrupted);
        };
        ctx.progress.clear();
        if let Some(why) = crate::state::guard::stopped() {
            return Err(Error::StateChanged(why.to_string()));
        }
        let resume = format!("ahi-edge down{} --wait-replicas --yes", settings.flags());
        let report = report(&stack, &outcomes, &ended, resume);
        let status = match report.result.as_str() {
            "done" => {
                if let Ledger::Writable(store) = ctx.into_ledger()
                    && store.state().resources.is_empty()
                {
                    store.remove()?;
                }
                ExitStatus::Success
            }
            "awaiting-replicas" => ExitStatus::Incomplete,
            _ => ExitStatus::Failure,
        };
        printer.result(&report)?;
        Ok(status)
    })
}

fn report(
    stack: &str,
    outcomes: &BTreeMap<String, Outcome<StepError>>,
    ended: &BTreeMap<String, Ended>,
    resume: String,
) -> DownReport {
    let mut resources = Vec::new();
    let mut awaiting = false;
    let mut failed = false;
    for (id, outcome) in outcomes {
        resources.push(match outcome {
            Outcome::Done => match ended.get(id) {
                Some(Ended::Kept(why)) => ResourceResult::new(id, "kept", Some(why.clone())),
                Some(Ended::LeftAlone(why)) => {
                    ResourceResult::new(id, "kept", Some(format!("left alone: {why}")))
                }
                _ => ResourceResult::new(id, "deleted", None),
            },
            Outcome::Failed(StepError::AwaitingReplicas(why)) => {
                awaiting = true;
                ResourceResult::new(id, "awaiting-replicas", Some(why.clone()))
            }
            Outcome::Failed(e) => {
                failed = true;
                ResourceResult::new(id, "failed", Some(e.to_string()))
            }
            Outcome::Skipped { because } => {
                ResourceResult::new(id, "skipped", Some(format!("waits for {because}")))
            }
        });
    }
    let result = if failed {
        "failed"
    } else if awaiting {
        "awaiting-replicas"
    } else {
        "done"
    };
    DownReport {
        schema: 1,
        stack: stack.to_string(),
        result: result.into(),
        resources,
        resume: (result != "done").then_some(if failed {
            resume.replace(" --wait-replicas", "")
        } else {
            resume
        }),
    }
}

/// Asks on a TTY; refuses (exit 2, nothing deleted) elsewhere without `--yes`.
fn confirm(settings: &Settings, state: &str, stack: &str, count: usize) -> Result<(), Error> {
    if settings.yes {
        return Ok(());
    }
    let refuse = |reason: &str| Error::Refused {
        path: state.into(),
        reason: reason.to_string(),
        fix: "pass --yes to delete without asking (runbooks do)".into(),
    };
    if !std::io::stdin().is_terminal() {
        return Err(refuse(&format!(
            "`down` would delete stack {stack} ({count} resources) and needs confirmation, but stdin is not a terminal"
        )));
    }
    let prompt =
        format!("Delete stack {stack} ({count} resources in {state})? Type the stack name to confirm: ");
    if session::typed_confirmation(&prompt, stack)? {
        Ok(())
    } else {
        Err(refuse("not confirmed; nothing was deleted"))
    }
}
