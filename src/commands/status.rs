//! `ahi-edge status`: every resource in the lockfile, read live and in
//! parallel. Exit 0 when healthy, 4 when something is missing or drifted.
//! Reads the lockfile without taking its lock, so it works while `up` or
//! `down` runs.

use std::fmt;

use serde::Serialize;

use super::session;
use crate::engine::progress::Progress;
use crate::error::{Error, ExitStatus};
use crate::lockfile::Lockfile;
use crate::output::Printer;
use crate::settings::Settings;
use crate::stack::inspect::{self, ResourceStatus};
use crate::stack::{Ctx, Ledger, call_region};

/// `status --json` (schema documented in docs/status.md).
#[derive(Debug, Serialize)]
pub struct StatusReport {
    /// Bumped when a field changes meaning or goes away.
    pub schema: u32,
    pub stack: String,
    pub lockfile: String,
    /// False when the lockfile does not exist or records nothing.
    pub deployed: bool,
    /// True when `state` is `healthy`.
    pub healthy: bool,
    /// The headline: `healthy` (exit 0), `deploying` (a CloudFront deploy,
    /// an ALB still provisioning or an ECS rollout under way: exit 3),
    /// `awaiting-replicas` (the distribution is gone and a Lambda@Edge
    /// function waits for CloudFront to drop its replicas: exit 3), `degraded`
    /// (something missing, drifted, incomplete, unreadable, not ours, a
    /// failed rollout, a certificate not issued: exit 4), `not-deployed`
    /// (the lockfile records nothing: exit 4).
    pub state: &'static str,
    pub resources: Vec<ResourceStatus>,
    pub certificates: Vec<CertificateStatus>,
    /// The distribution's routes as `up` last applied them, in evaluation order.
    pub routes: Vec<super::routes::RouteRow>,
    /// The `Cache-Control` viewers get on the HealthImaging behaviour, as
    /// `up` last applied it (a live difference shows as drift of the
    /// response headers policy); null for a stack without one.
    pub viewer_cache_control: Option<String>,
    /// An origin secret rotation the lockfile records as under way (version
    /// ids and the phase, never a value); null when none is. A stack
    /// otherwise healthy is `deploying` (exit 3) until it is finished.
    pub rotation: Option<RotationStatus>,
}

#[derive(Debug, Serialize)]
pub struct RotationStatus {
    /// `new-version`, `rule-both`, `proxy-both`, `distribution`, `rule-new`,
    /// `proxy-new` or `retire` (docs/lockfile.md).
    pub phase: &'static str,
    pub doing: &'static str,
    pub started_at: String,
    pub old_version: String,
    pub new_version: String,
}

impl From<&crate::lockfile::Rotation> for RotationStatus {
    fn from(r: &crate::lockfile::Rotation) -> Self {
        RotationStatus {
            phase: r.phase.as_str(),
            doing: r.phase.describe(),
            started_at: r.started_at.clone(),
            old_version: r.old_version.clone(),
            new_version: r.new_version.clone(),
        }
    }
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
                "stack {}: not-deployed ({} holds no resources)",
                self.stack, self.lockfile
            );
        }
        let why = match self.state {
            "healthy" => "",
            "deploying" => " (AWS is still applying the last change; run status again in a few minutes)",
            "awaiting-replicas" => {
                " (only Lambda@Edge replicas are left; `ahi-edge down --wait-replicas` finishes)"
            }
            _ => " (NEEDS ATTENTION: see HEALTH below)",
        };
        writeln!(f, "stack {}: {}{why}", self.stack, self.state)?;
        writeln!(
            f,
            "{:<24} {:<17} {:<10} {:<24} KIND",
            "RESOURCE", "HEALTH", "REGION", "PHYSICAL ID"
        )?;
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
            // Long ids (ARNs, bucket names) keep their end: the unique part.
            let physical = r.physical_id.as_deref().unwrap_or("-");
            let physical = match physical.char_indices().rev().nth(23) {
                Some((cut, _)) if physical.len() > 24 => format!("...{}", &physical[cut + 3..]),
                _ => physical.to_string(),
            };
            writeln!(
                f,
                "{:<24} {:<17} {:<10} {:<24} {}",
                r.id, r.health, r.region, physical, r.kind
            )?;
            if !detail.is_empty() {
                writeln!(f, "{:<24} {detail}", "")?;
            }
        }
        if let Some(v) = &self.viewer_cache_control {
            writeln!(f, "viewers get Cache-Control: {v}")?;
        }
        if let Some(r) = &self.rotation {
            writeln!(
                f,
                "origin secret rotation in progress since {}: phase {} ({}), version {} -> {}",
                r.started_at, r.phase, r.doing, r.old_version, r.new_version
            )?;
            writeln!(
                f,
                "next: `ahi-edge rotate-origin-secret` resumes it (`up` refuses until it is finished)"
            )?;
        }
        for c in &self.certificates {
            writeln!(f, "certificate {} {}", c.arn, c.status)?;
        }
        if self.routes.len() > 1 {
            writeln!(f, "routes, in the order CloudFront tries them:")?;
            for row in &self.routes {
                writeln!(f, "{row}")?;
            }
        }
        Ok(())
    }
}

pub fn run(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Error> {
    // The lockfile is the map: the profile is needed only to name the stack
    // when nothing is recorded yet.
    let profile = session::profile_if_present(settings, printer)?;
    let lock = session::snapshot(settings, printer, profile.as_ref())?.unwrap_or_else(|| Lockfile::new(""));
    let state = session::location(settings, profile.as_ref())?.name();
    let report = session::runtime()?.block_on(async {
        let deployed = !lock.resources.is_empty();
        let mut report = StatusReport {
            schema: 1,
            stack: lock.stack.clone(),
            lockfile: state,
            deployed,
            healthy: false,
            state: "not-deployed",
            resources: Vec::new(),
            certificates: Vec::new(),
            routes: super::routes::recorded_rows(&lock),
            viewer_cache_control: recorded_viewer_cache_control(&lock),
            rotation: lock.rotation.as_deref().map(RotationStatus::from),
        };
        if !deployed {
            return Ok::<_, Error>(report);
        }
        let (clients, account) = session::clients(settings).await?;
        let ctx = Ctx::new(
            &lock.stack,
            clients,
            account,
            Ledger::ReadOnly(lock.clone()),
            Progress::silent(),
            None,
        );
        let looks = lock
            .resources
            .iter()
            .map(|(id, entry)| inspect::entry(&ctx, id, entry));
        let (resources, certificates) =
            tokio::join!(futures_util::future::join_all(looks), certificates(&ctx, &lock));
        report.state = headline(&resources, certificates.iter().all(|(_, s)| s == "ISSUED"));
        if report.state == "healthy" && report.rotation.is_some() {
            report.state = "deploying";
        }
        report.healthy = report.state == "healthy";
        report.resources = resources;
        report.certificates = certificates
            .into_iter()
            .map(|(arn, status)| CertificateStatus { arn, status })
            .collect();
        Ok(report)
    })?;
    printer.result(&report)?;
    Ok(match report.state {
        "healthy" => ExitStatus::Success,
        "deploying" | "awaiting-replicas" => ExitStatus::Incomplete,
        _ => ExitStatus::Drift,
    })
}

/// The viewer `Cache-Control` the lockfile's response headers policy records.
fn recorded_viewer_cache_control(lock: &Lockfile) -> Option<String> {
    use crate::kinds::response_headers_policy::ResponseHeadersPolicySpec;
    lock.resources
        .get("response_headers_policy")
        .and_then(|e| serde_json::from_value::<ResponseHeadersPolicySpec>(e.spec_value()).ok())
        .map(|spec| spec.viewer_cache_control)
}

/// The stack's headline from its resources (see `StatusReport::state`).
fn headline(resources: &[ResourceStatus], certificates_issued: bool) -> &'static str {
    let failed_rollout = |r: &ResourceStatus| r.kind == "ecs-service" && r.detail.contains("rollout FAILED");
    if resources.iter().any(|r| r.needs_attention() || failed_rollout(r)) || !certificates_issued {
        return "degraded";
    }
    // A teardown under way: the distribution is gone, a function waits for
    // CloudFront to drop its replicas (with the role it runs as). An old
    // authorizer waiting beside a live distribution is not a headline.
    let torn_down = !resources.iter().any(|r| r.kind == "cloudfront-distribution");
    if torn_down && resources.iter().any(|r| r.health == "awaiting-replicas") {
        return "awaiting-replicas";
    }
    let deploying = |r: &ResourceStatus| match r.kind.as_str() {
        "cloudfront-distribution" => r.detail == "InProgress",
        "elbv2-load-balancer" => r.detail == "provisioning",
        "ecs-service" => r.detail.contains("rollout IN_PROGRESS"),
        _ => false,
    };
    if resources.iter().any(deploying) {
        return "deploying";
    }
    "healthy"
}

/// The ACM certificates the recorded specs name (the listener's, in its
/// region; the distribution's, in us-east-1), with ACM's status.
async fn certificates(ctx: &Ctx, lock: &Lockfile) -> Vec<(String, String)> {
    let mut check = Vec::new();
    for entry in lock.resources.values() {
        let spec = entry.spec_value();
        let arn = match entry.kind.as_str() {
            "elbv2-listener" => spec.get("certificate"),
            "cloudfront-distribution" => spec.get("certificate_arn"),
            _ => None,
        };
        if let Some(arn) = arn.and_then(|a| a.as_str()) {
            check.push((arn.to_string(), call_region(&entry.region).to_string()));
        }
    }
    let mut out = Vec::new();
    for (arn, region) in check {
        let status = match ctx
            .clients
            .acm(&region)
            .describe_certificate()
            .certificate_arn(&arn)
            .send()
            .await
        {
            Ok(o) => o
                .certificate()
                .and_then(|c| c.status())
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "unknown".into()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                "missing".into()
            }
            Err(e) => format!(
                "unknown: {}",
                crate::aws::AwsError::from_sdk("DescribeCertificate", e)
            ),
        };
        out.push((arn, status));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(kind: &str, health: &str, detail: &str) -> ResourceStatus {
        ResourceStatus {
            id: kind.into(),
            kind: kind.into(),
            region: "us-east-1".into(),
            physical_id: None,
            recorded: "ready".into(),
            health: health.into(),
            drift: Vec::new(),
            detail: detail.into(),
            replicas: None,
        }
    }

    #[test]
    fn the_headline_tells_deploying_and_awaiting_replicas_from_healthy_and_degraded() {
        let ok = resource("ec2-vpc", "ok", "");
        let cases = [
            (vec![ok.clone()], true, "healthy"),
            (
                vec![
                    ok.clone(),
                    resource("cloudfront-distribution", "ok", "InProgress"),
                ],
                true,
                "deploying",
            ),
            (
                vec![resource("elbv2-load-balancer", "ok", "provisioning")],
                true,
                "deploying",
            ),
            (
                vec![resource("ecs-service", "ok", "0/1 running, rollout IN_PROGRESS")],
                true,
                "deploying",
            ),
            (
                vec![resource("ecs-service", "ok", "0/1 running, rollout FAILED")],
                true,
                "degraded",
            ),
            (
                vec![
                    ok.clone(),
                    resource("lambda-edge-function", "awaiting-replicas", ""),
                ],
                true,
                "awaiting-replicas",
            ),
            (
                vec![
                    resource("cloudfront-distribution", "ok", "Deployed"),
                    resource("lambda-edge-function", "awaiting-replicas", ""),
                ],
                true,
                "healthy",
            ),
            (
                vec![
                    ok.clone(),
                    resource("cloudfront-distribution", "drifted", "InProgress"),
                ],
                true,
                "degraded",
            ),
            (vec![ok], false, "degraded"),
        ];
        for (resources, issued, want) in cases {
            assert_eq!(headline(&resources, issued), want, "{resources:?}");
        }
    }
}
