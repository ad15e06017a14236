//! `ahi-edge down`: tears the stack down in reverse dependency order,
//! independent branches at once, from the lockfile alone. Exit 0 when
//! nothing is left (the lockfile is removed), 3 when only Lambda@Edge
//! functions wait for CloudFront's replicas, 1 on failure.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, IsTerminal, Write};

use serde::Serialize;

use super::session;
use crate::cli::DownArgs;
use crate::engine::graph::Outcome;
use crate::error::{Error, ExitStatus};
use crate::lockfile::StateStore;
use crate::names::StackNames;
use crate::output::Printer;
use crate::settings::Settings;
use crate::stack::progress::Progress;
use crate::stack::teardown::{self, Options};
use crate::stack::{Ctx, Ledger, StepError};

const CONCURRENCY: usize = 12;
const LOG_BUCKET: &str = "log_bucket";

#[derive(Debug, Serialize)]
pub struct DownReport {
    pub stack: String,
    /// `done`, `awaiting-replicas` or `failed`.
    pub result: String,
    /// Logical id -> why it is still there.
    pub remaining: BTreeMap<String, String>,
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
        for (id, why) in &self.remaining {
            writeln!(f, "  {id}: {why}")?;
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
        Some(p) => session::store(settings, p)?,
        None => StateStore::open_existing(&settings.lockfile)?.ok_or_else(|| Error::Refused {
            path: settings.lockfile.clone(),
            reason: "there is no lockfile here, and no profile".into(),
            fix: "pass --lockfile with the stack's lockfile (or --profile with its profile)".into(),
        })?,
    };
    let stack = store.state().stack.clone();
    if store.state().resources.is_empty() && !args.purge_logs {
        let path = store.path().to_path_buf();
        store.remove()?;
        printer.result(&DownReport {
            stack: stack.clone(),
            result: "done".into(),
            remaining: BTreeMap::new(),
            resume: None,
        })?;
        printer.info(format!(
            "nothing was deployed ({} held no resources)",
            path.display()
        ));
        return Ok(ExitStatus::Success);
    }
    confirm(settings, &stack, store.state().resources.len())?;
    let opts = Options {
        wait_replicas: args.wait_replicas,
        timeout: args.timeout,
        purge_logs: args.purge_logs,
    };
    session::runtime()?.block_on(async {
        let (clients, account) = session::clients(settings).await?;
        let ctx = Ctx::new(&stack, clients, account, Ledger::Writable(store), Progress::new(printer.progress()), None);
        if opts.purge_logs
            && ctx.entry(LOG_BUCKET).is_none()
            && let Some(profile) = &profile
        {
            // A plain `down` kept the bucket and forgot it; it is still found
            // by its derived name and deleted only if it carries our tag.
            let region = profile.healthimaging.region.clone();
            let bucket = StackNames { stack: &stack }.log_bucket(&ctx.account, &region);
            ctx.change(|l| {
                l.record_intent(LOG_BUCKET, "s3-bucket", &region, &bucket, &[]);
                if let Some(e) = l.resources.get_mut(LOG_BUCKET) {
                    e.spec = serde_json::json!({ "name": bucket }).to_string();
                }
            })
            .map_err(|e| Error::io("recording the log bucket", std::io::Error::other(e.to_string())))?;
        }
        if opts.purge_logs
            && ctx.entry("edge_function").is_none()
            && let Some(profile) = &profile
            && !matches!(profile.auth.mode, crate::profile::AuthMode::None)
        {
            // The function went with an earlier `down`; its replicas' logs stayed.
            let name = StackNames { stack: &stack }.edge_function();
            crate::kinds::edge_function::purge_replica_logs(&ctx, &name, &profile.lambda_edge.replica_regions)
                .await
                .map_err(|e| Error::io("deleting the replicas' log groups", std::io::Error::other(e.to_string())))?;
        }
        let lock = ctx.lock();
        let ids: Vec<String> = lock.resources.keys().cloned().collect();
        let order = teardown::order(&lock, &ids);
        let work = order.run(CONCURRENCY, |id| {
            let (ctx, opts) = (&ctx, &opts);
            async move { teardown::node(ctx, &id, opts).await.map(|_| ()) }
        });
        let outcomes = tokio::select! {
            outcomes = work => outcomes,
            _ = tokio::signal::ctrl_c() => {
                ctx.progress.clear();
                printer.warn(format!(
                    "interrupted: what was deleted is recorded in the lockfile; run `ahi-edge down{}` again to resume",
                    settings.flags()
                ));
                return Ok(ExitStatus::Interrupted);
            }
        };
        ctx.progress.clear();
        let resume = format!("ahi-edge down{} --wait-replicas --yes", settings.flags());
        let report = report(&stack, &outcomes, resume);
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

fn report(stack: &str, outcomes: &BTreeMap<String, Outcome<StepError>>, resume: String) -> DownReport {
    let mut remaining = BTreeMap::new();
    let mut awaiting = false;
    let mut failed = false;
    for (id, outcome) in outcomes {
        match outcome {
            Outcome::Done => {}
            Outcome::Failed(StepError::AwaitingReplicas(why)) => {
                awaiting = true;
                remaining.insert(id.clone(), format!("awaiting replicas: {why}"));
            }
            Outcome::Failed(e) => {
                failed = true;
                remaining.insert(id.clone(), format!("failed: {e}"));
            }
            Outcome::Skipped { because } => {
                remaining.insert(id.clone(), format!("waits for {because}"));
            }
        }
    }
    let result = if failed {
        "failed"
    } else if awaiting {
        "awaiting-replicas"
    } else {
        "done"
    };
    DownReport {
        stack: stack.to_string(),
        result: result.into(),
        remaining,
        resume: (result != "done").then_some(if failed {
            resume.replace(" --wait-replicas", "")
        } else {
            resume
        }),
    }
}

/// Asks on a TTY; refuses (exit 2, nothing deleted) elsewhere without `--yes`.
fn confirm(settings: &Settings, stack: &str, count: usize) -> Result<(), Error> {
    if settings.yes {
        return Ok(());
    }
    let refuse = |reason: &str| Error::Refused {
        path: settings.lockfile.clone(),
        reason: reason.to_string(),
        fix: "pass --yes to delete without asking (runbooks do)".into(),
    };
    if !std::io::stdin().is_terminal() {
        return Err(refuse(&format!(
            "`down` would delete stack {stack} ({count} resources) and needs confirmation, but stdin is not a terminal"
        )));
    }
    eprint!(
        "Delete stack {stack} ({count} resources in {})? Type the stack name to confirm: ",
        settings.lockfile.display()
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("reading the confirmation", e))?;
    if answer.trim() == stack {
        Ok(())
    } else {
        Err(refuse("not confirmed; nothing was deleted"))
    }
}
