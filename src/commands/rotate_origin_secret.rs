//! `ahi-edge rotate-origin-secret`: a new origin header value with no
//! request refused on the way. CloudFront, the ALB rule and the proxy each
//! move from the old value to the new one while the other two accept both:
//!
//! 1. `new-version`: a new version in Secrets Manager, staged AWSPENDING
//!    (its id chosen and recorded first: the client request token);
//! 2. `rule-both`: the listener rule accepts the old and the new value;
//! 3. `proxy-both`: a task definition with both, the service rolled, steady;
//! 4. `distribution`: the origin sends the new value; waited for Deployed;
//! 5. `rule-new`: the rule accepts only the new value;
//! 6. `proxy-new`: the proxy too (rolled again, steady);
//! 7. `retire`: AWSCURRENT moves to the new version; the old one loses its
//!    labels (Secrets Manager deletes such versions in time).
//!
//! Each phase is recorded in the lockfile (`[rotation]`) before its first
//! write and works from the recorded specs, changed only in the secret's
//! version, through the same find/compare/update as `up`: a re-run after a
//! kill finds what is done and goes on. `up` refuses while a rotation is
//! recorded (its specs would drop the value CloudFront may still send).

use crate::engine::kind::Output;
use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::session;
use crate::engine::progress::Progress;
use crate::error::{Error, ExitStatus};
use crate::lockfile::{Lockfile, Phase, Rotation, now};
use crate::output::Printer;
use crate::resources::origin_secret::LENGTH;
use crate::resources::proxy::{ORIGIN_HEADER_VAR, ORIGIN_SECRET_VARS, secret_value_from};
use crate::settings::Settings;
use crate::stack::apply::{self, Up};
use crate::stack::instance::Instance;
use crate::stack::{Ctx, Ledger, StepError, output};

/// What the rotation works on; each must be recorded (`up` made the stack).
const NEEDED: [&str; 5] = [
    "origin_secret",
    "listener_rule",
    "task_definition",
    "service",
    "distribution",
];

#[derive(Debug, Serialize)]
pub struct RotationReport {
    pub schema: u32,
    pub stack: String,
    pub secret_arn: String,
    /// Version ids, never values.
    pub old_version: String,
    pub new_version: String,
    /// The phases this run completed (a resumed run: from where it resumed).
    pub phases: Vec<&'static str>,
    pub complete: bool,
}

impl fmt::Display for RotationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "origin secret of stack {} rotated: version {} -> {}",
            self.stack, self.old_version, self.new_version
        )?;
        writeln!(f, "phases: {}", self.phases.join(", "))?;
        writeln!(
            f,
            "the ALB rule and the proxy now refuse the old value; CloudFront sends the new one"
        )
    }
}

pub fn run(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Error> {
    let profile = session::profile(settings, printer)?;
    if profile.delivery.is_none() {
        return Err(Error::Refused {
            path: settings.profile.clone(),
            reason: "has no [healthimaging]: a routes-only stack has no origin secret to rotate".into(),
            fix: "run it with the profile of a HealthImaging stack".into(),
        });
    }
    let store = session::store(settings, printer, &profile, "rotate-origin-secret")?;
    check_recorded(settings, store.state())?;
    session::runtime()?.block_on(async {
        let (clients, account) = session::clients(settings).await?;
        let ctx = Ctx::new(
            &profile.stack.name,
            clients,
            account,
            Ledger::Writable(store),
            Progress::new(printer.progress()),
            None,
        );
        let work = rotate(&ctx, &profile, printer);
        let Some(done) = session::unless_interrupted(
            &ctx.progress,
            printer,
            format!("the phase reached is recorded in the lockfile; run `ahi-edge rotate-origin-secret{}` again to resume", settings.flags()),
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
        match done {
            Ok(report) => {
                printer.result(&report)?;
                Ok(ExitStatus::Success)
            }
            Err((phase, e)) => Err(Error::step(
                format!(
                    "rotate-origin-secret, phase {} ({}); run `ahi-edge rotate-origin-secret{}` again: it resumes there",
                    phase.as_str(),
                    phase.describe(),
                    settings.flags()
                ),
                e,
            )),
        }
    })
}

/// Refused before any call: a stack `up` has not finished.
fn check_recorded(settings: &Settings, lock: &Lockfile) -> Result<(), Error> {
    let missing: Vec<&str> = NEEDED
        .iter()
        .copied()
        .filter(|id| {
            lock.resources
                .get(*id)
                .is_none_or(|e| e.state != crate::lockfile::State::Ready || e.spec.is_empty())
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::Refused {
        path: settings.lockfile.clone(),
        reason: format!(
            "records no finished {}: there is no deployed origin secret to rotate; nothing was changed",
            missing.join(", ")
        ),
        fix: format!(
            "run `ahi-edge up{}` until it completes, then rotate",
            settings.flags()
        ),
    })
}

async fn rotate(
    cx: &Ctx,
    profile: &crate::profile::Profile,
    printer: &Printer,
) -> Result<RotationReport, (Phase, StepError)> {
    let mut rotation = match cx.lock().rotation.map(|r| *r) {
        Some(r) => {
            printer.info(format!(
                "resuming the rotation started {} at phase {} ({})",
                r.started_at,
                r.phase.as_str(),
                r.phase.describe()
            ));
            r
        }
        None => start(cx).await.map_err(|e| (Phase::NewVersion, e))?,
    };
    let ids: Vec<String> = cx.lock().resources.keys().cloned().collect();
    let up = Up {
        profile,
        package_sha: None,
        ids,
    };
    let mut phases = Vec::new();
    loop {
        let phase = rotation.phase;
        cx.progress
            .expect([(phase.as_str().to_string(), Duration::from_secs(typical(phase)))]);
        cx.progress.state(
            phase.as_str(),
            Duration::from_secs(typical(phase)),
            phase.describe(),
        );
        run_phase(cx, &up, &rotation).await.map_err(|e| (phase, e))?;
        cx.progress.done(phase.as_str(), "done");
        phases.push(phase.as_str());
        match phase.next() {
            Some(next) => {
                rotation.phase = next;
                let recorded = rotation.clone();
                cx.change(|l| l.rotation = Some(Box::new(recorded)))
                    .map_err(|e| (next, e))?;
            }
            None => {
                cx.change(|l| l.rotation = None).map_err(|e| (phase, e))?;
                break;
            }
        }
    }
    Ok(RotationReport {
        schema: 1,
        stack: cx.stack().to_string(),
        secret_arn: rotation.secret_arn,
        old_version: rotation.old_version,
        new_version: rotation.new_version,
        phases,
        complete: true,
    })
}

/// Seconds a phase typically takes (the progress line's estimate).
fn typical(phase: Phase) -> u64 {
    match phase {
        Phase::ProxyBoth | Phase::ProxyNew => 120,
        Phase::Distribution => 270,
        _ => 3,
    }
}

/// Records the rotation (the new version's id chosen here) before any write.
async fn start(cx: &Ctx) -> Result<Rotation, StepError> {
    let lock = cx.lock();
    let arn = output(&lock, "origin_secret", Output::ARN)?;
    let old = output(&lock, "origin_secret", crate::kinds::origin_secret::VERSION_ID)?;
    let stages = stages(cx, &arn).await?;
    let current = stages
        .iter()
        .find(|(_, labels)| labels.iter().any(|l| l == "AWSCURRENT"))
        .map(|(v, _)| v.clone());
    if current.as_deref() != Some(old.as_str()) {
        return Err(StepError::Refused(format!(
            "the secret {arn} is at version {} in Secrets Manager but the lockfile records {old}: it was changed outside ahi-edge; run `ahi-edge up` first so the stack uses its current version, then rotate",
            current.as_deref().unwrap_or("(none)")
        )));
    }
    let rotation = Rotation {
        phase: Phase::NewVersion,
        secret_arn: arn,
        old_version: old,
        new_version: new_version_id(cx.stack()),
        started_at: now(),
    };
    let recorded = rotation.clone();
    cx.change(|l| l.rotation = Some(Box::new(recorded)))?;
    Ok(rotation)
}

/// A client request token for PutSecretValue (32-64 characters): it becomes
/// the new version's id, so a re-run after a kill finds that version.
fn new_version_id(stack: &str) -> String {
    let token = crate::engine::polls::attempt_token(stack, "origin_secret_rotation");
    format!(
        "{}-{}-{}-{}-{}",
        &token[..8],
        &token[8..12],
        &token[12..16],
        &token[16..20],
        &token[20..32]
    )
}

/// Each version of the secret with its staging labels.
async fn stages(cx: &Ctx, arn: &str) -> Result<Vec<(String, Vec<String>)>, StepError> {
    let out = cx
        .clients
        .secrets(region_of(arn))
        .describe_secret()
        .secret_id(arn)
        .send()
        .await
        .map_err(crate::aws::sdk("DescribeSecret"))?;
    Ok(out
        .version_ids_to_stages()
        .map(|m| m.iter().map(|(v, s)| (v.clone(), s.clone())).collect())
        .unwrap_or_default())
}

fn region_of(arn: &str) -> &str {
    arn.split(':').nth(3).unwrap_or(crate::aws::EDGE_REGION)
}

async fn run_phase(cx: &Ctx, up: &Up<'_>, r: &Rotation) -> Result<(), StepError> {
    let (old, new) = (r.old_version.as_str(), r.new_version.as_str());
    match r.phase {
        Phase::NewVersion => put_new_version(cx, r).await,
        Phase::RuleBoth => rule(cx, up, &r.secret_arn, old, Some(new)).await,
        Phase::ProxyBoth => proxy(cx, up, &r.secret_arn, &[old, new]).await,
        Phase::Distribution => distribution(cx, up, new).await,
        Phase::RuleNew => rule(cx, up, &r.secret_arn, new, None).await,
        Phase::ProxyNew => proxy(cx, up, &r.secret_arn, &[new]).await,
        Phase::Retire => retire(cx, up, r).await,
    }
}

/// The new version, unless a killed run already put it.
async fn put_new_version(cx: &Ctx, r: &Rotation) -> Result<(), StepError> {
    if stages(cx, &r.secret_arn)
        .await?
        .iter()
        .any(|(v, _)| *v == r.new_version)
    {
        return Ok(());
    }
    let secrets = cx.clients.secrets(region_of(&r.secret_arn));
    let password = secrets
        .get_random_password()
        .password_length(LENGTH)
        .exclude_punctuation(true)
        .include_space(false)
        .send()
        .await
        .map_err(crate::aws::sdk("GetRandomPassword"))?;
    let value = password.random_password().ok_or_else(|| {
        StepError::Aws(crate::aws::AwsError::missing(
            "GetRandomPassword",
            "RandomPassword",
        ))
    })?;
    secrets
        .put_secret_value()
        .secret_id(&r.secret_arn)
        .client_request_token(&r.new_version)
        .secret_string(value)
        .version_stages("AWSPENDING")
        .send()
        .await
        .map_err(crate::aws::sdk("PutSecretValue"))?;
    Ok(())
}

/// The recorded spec of `id`, changed by `edit`, applied as `up` would.
async fn apply_edited(
    cx: &Ctx,
    up: &Up<'_>,
    id: &str,
    edit: impl FnOnce(&mut Value),
) -> Result<(), StepError> {
    let entry = cx
        .entry(id)
        .ok_or_else(|| StepError::Missing(format!("{id} is not in the lockfile")))?;
    let mut spec = entry.spec_value();
    edit(&mut spec);
    let needs: Vec<&str> = entry.needs.iter().map(String::as_str).collect();
    let kind = apply::kind_of(&entry.kind)?.name();
    let inst = Instance::resource(id, kind, &entry.region, &needs, move |_| {
        Ok::<Value, StepError>(spec.clone())
    });
    apply::node(cx, up, &inst).await?;
    Ok(())
}

/// Waits for `id` to be ready as `up` does (rolled out, deployed).
async fn wait_ready(cx: &Ctx, up: &Up<'_>, id: &str, wait_id: &str) -> Result<(), StepError> {
    let entry = cx
        .entry(id)
        .ok_or_else(|| StepError::Missing(format!("{id} is not in the lockfile")))?;
    let kind = apply::kind_of(&entry.kind)?.name();
    let of = Instance::resource(id, kind, &entry.region, &[], |_| {
        Ok::<Value, StepError>(Value::Null)
    });
    apply::node(cx, up, &Instance::ready(wait_id, &of)).await?;
    Ok(())
}

async fn rule(cx: &Ctx, up: &Up<'_>, arn: &str, current: &str, next: Option<&str>) -> Result<(), StepError> {
    let secret = |version: &str| serde_json::json!({ "arn": arn, "version": version });
    apply_edited(cx, up, "listener_rule", |spec| {
        spec["origin_secret"] = secret(current);
        match next {
            Some(next) => spec["rotating_to"] = secret(next),
            None => {
                if let Some(map) = spec.as_object_mut() {
                    map.remove("rotating_to");
                }
            }
        }
    })
    .await
}

/// A task definition accepting `versions`, the service rolled onto it, steady.
async fn proxy(cx: &Ctx, up: &Up<'_>, arn: &str, versions: &[&str]) -> Result<(), StepError> {
    apply_edited(cx, up, "task_definition", |spec| {
        spec["environment"][ORIGIN_HEADER_VAR] = Value::from(crate::resources::distribution::ORIGIN_HEADER);
        spec["secrets"] = ORIGIN_SECRET_VARS
            .iter()
            .zip(versions)
            .map(|(var, version)| (var.to_string(), Value::from(secret_value_from(arn, version))))
            .collect::<serde_json::Map<_, _>>()
            .into();
    })
    .await?;
    let revision = output(&cx.lock(), "task_definition", Output::ARN)?;
    apply_edited(cx, up, "service", |spec| {
        spec["task_definition"] = Value::from(revision);
    })
    .await?;
    wait_ready(cx, up, "service", "service_steady").await
}

async fn distribution(cx: &Ctx, up: &Up<'_>, version: &str) -> Result<(), StepError> {
    apply_edited(cx, up, "distribution", |spec| {
        spec["origin_secret_version"] = Value::from(version);
    })
    .await?;
    wait_ready(cx, up, "distribution", "distribution_deployed").await
}

/// AWSCURRENT to the new version, AWSPENDING off it, the old version's
/// labels removed; then the secret's entry records the new version (so the
/// next `up` builds the same specs the rotation left).
async fn retire(cx: &Ctx, up: &Up<'_>, r: &Rotation) -> Result<(), StepError> {
    let secrets = cx.clients.secrets(region_of(&r.secret_arn));
    let labels = |stages: &[(String, Vec<String>)], version: &str| -> Vec<String> {
        stages
            .iter()
            .find(|(v, _)| v == version)
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    };
    let stages = stages(cx, &r.secret_arn).await?;
    if !labels(&stages, &r.new_version).iter().any(|l| l == "AWSCURRENT") {
        secrets
            .update_secret_version_stage()
            .secret_id(&r.secret_arn)
            .version_stage("AWSCURRENT")
            .move_to_version_id(&r.new_version)
            .remove_from_version_id(&r.old_version)
            .send()
            .await
            .map_err(crate::aws::sdk("UpdateSecretVersionStage"))?;
    }
    let stages = self::stages(cx, &r.secret_arn).await?;
    let removals = [
        ("AWSPENDING", r.new_version.as_str()),
        ("AWSPREVIOUS", r.old_version.as_str()),
    ];
    for (label, version) in removals {
        if labels(&stages, version).iter().any(|l| l == label) {
            secrets
                .update_secret_version_stage()
                .secret_id(&r.secret_arn)
                .version_stage(label)
                .remove_from_version_id(version)
                .send()
                .await
                .map_err(crate::aws::sdk("UpdateSecretVersionStage"))?;
        }
    }
    apply_edited(cx, up, "origin_secret", |_| {}).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_new_version_id_is_a_valid_client_request_token() {
        let id = super::new_version_id("a-stack");
        // Secrets Manager: 32 to 64 characters; a UUID's shape.
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(id.matches('-').count(), 4);
        assert_ne!(id, super::new_version_id("a-stack"));
    }
}
