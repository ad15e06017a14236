//! `ahi-edge routes`: the route table, offline. `routes test REQUEST...`
//! says where each request goes (route, origin, the URI the origin
//! receives, policies, functions, notes) by the same evaluator `validate`
//! runs the profile's `[[route_tests]]` with; `routes show` prints the
//! table in CloudFront's evaluation order.

use std::fmt;

use serde::Serialize;

use super::session;
use crate::error::{Error, ExitStatus};
use crate::output::Printer;
use crate::profile::Profile;
use crate::routes::{Decision, OriginKind, Table};
use crate::settings::Settings;

/// One row of the route table, as `routes show`, `plan` and `status` print it.
#[derive(Debug, Clone, Serialize)]
pub struct RouteRow {
    /// 1-based, in evaluation order.
    pub order: usize,
    pub path: String,
    pub origin: String,
    /// `http` / `s3` / `s3_website` / `healthimaging`.
    pub origin_kind: String,
    /// What the origin's URI becomes: `as sent`, `strip /api`, ...
    pub origin_sees: String,
    pub cache: String,
    /// Functions on viewer-request: `authorizer`, `rewrite <name>`.
    pub functions: Vec<String>,
    /// Who may read: `public`, `JWT`, and `OAC` for a private bucket.
    pub access: String,
}

impl fmt::Display for RouteRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>3}  {:<24} -> {} ({}), origin sees: {}; cache: {}; access: {}",
            self.order, self.path, self.origin, self.origin_kind, self.origin_sees, self.cache, self.access
        )?;
        if !self.functions.is_empty() {
            write!(f, "; runs: {}", self.functions.join(", "))?;
        }
        Ok(())
    }
}

/// The route table's rows, for `plan` and `routes show`.
pub fn rows(profile: &Profile) -> Vec<RouteRow> {
    let table: &Table = &profile.routes;
    table
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let kind = table.origin(&r.origin).map(|o| o.kind.clone());
            let mut functions = Vec::new();
            if r.authorizer {
                functions.push("JWT authorizer (Lambda@Edge)".to_string());
            }
            if let Some(key) = table.function_key(&r.transform) {
                functions.push(crate::routes::function_name(&profile.stack.name, &key));
            }
            let mut access = match (&kind, r.authorizer) {
                (_, true) => "JWT".to_string(),
                (Some(OriginKind::S3 { .. }), false) => "public; bucket private (OAC)".to_string(),
                _ => "public".to_string(),
            };
            if let Some(signer) = &r.signed {
                access = access.replacen("public", &format!("signed URLs/cookies ({signer})"), 1);
                if r.authorizer {
                    access = format!("JWT and signed URLs/cookies ({signer})");
                }
            }
            RouteRow {
                order: i + 1,
                path: r.path.clone(),
                origin: r.origin.clone(),
                origin_kind: kind.as_ref().map_or("?", OriginKind::word).to_string(),
                origin_sees: match r.transform.is_identity() {
                    true => "the path as sent".into(),
                    false => r.transform.describe(),
                },
                cache: r.cache.label(),
                functions,
                access,
            }
        })
        .collect()
}

/// The route table as `up` last applied it (the lockfile's distribution
/// spec), for `status`, which works without the profile.
pub fn recorded_rows(lock: &crate::lockfile::Lockfile) -> Vec<RouteRow> {
    use crate::resources::distribution::DistributionSpec;
    use crate::routes::managed;
    let Some(spec) = lock
        .resources
        .get("distribution")
        .and_then(|e| serde_json::from_value::<DistributionSpec>(e.spec_value()).ok())
    else {
        return Vec::new();
    };
    let policy_name = |id: &str| {
        managed::CACHE
            .iter()
            .find(|m| m.id == id)
            .map_or_else(|| format!("the stack's own ({id})"), |m| m.aws_name.to_string())
    };
    spec.behaviors
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let origin = spec.origins.iter().find(|o| o.id == b.origin_id);
            let function = b
                .viewer_request_function
                .as_deref()
                .map(|arn| arn.rsplit('/').next().unwrap_or(arn).to_string());
            let mut functions = Vec::new();
            if b.viewer_request_lambda.is_some() {
                functions.push("JWT authorizer (Lambda@Edge)".to_string());
            }
            functions.extend(function.clone());
            let kind = match origin {
                Some(o) if o.oac_id.is_some() => "s3",
                Some(o) if o.secret_header => "healthimaging",
                Some(o) if o.domain.contains(".s3-website") => "s3_website",
                Some(_) => "http",
                None => "?",
            };
            RouteRow {
                order: i + 1,
                path: b.path_pattern.clone(),
                origin: if kind == "healthimaging" {
                    crate::routes::HEALTHIMAGING_ORIGIN.to_string()
                } else {
                    b.origin_id.clone()
                },
                origin_kind: kind.to_string(),
                origin_sees: match &function {
                    Some(f) => format!("rewritten by {f}"),
                    None => "the path as sent".into(),
                },
                cache: policy_name(&b.cache_policy_id),
                functions,
                access: match (b.viewer_request_lambda.is_some(), kind) {
                    (true, _) => "JWT".into(),
                    (false, "s3") => "public; bucket private (OAC)".into(),
                    _ => "public".into(),
                },
            }
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub struct RoutesReport {
    pub schema: u32,
    pub stack: String,
    pub routes: Vec<RouteRow>,
    /// The requests asked about (`routes test`), or the profile's route tests.
    pub decisions: Vec<Decision>,
}

impl fmt::Display for RoutesReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.decisions.is_empty() {
            writeln!(
                f,
                "routes of stack {}, in the order CloudFront tries them:",
                self.stack
            )?;
            for row in &self.routes {
                writeln!(f, "{row}")?;
            }
        }
        for d in &self.decisions {
            writeln!(f, "{}", d.request)?;
            writeln!(
                f,
                "  route {} ({}) -> origin {} ({}, {})",
                d.route, d.pattern, d.origin, d.origin_kind, d.origin_domain
            )?;
            writeln!(f, "  origin receives: {} {}", d.method, d.origin_uri)?;
            writeln!(
                f,
                "  cache: {}; origin request: {}; response headers: {}",
                d.cache,
                d.forward.as_deref().unwrap_or("none"),
                d.headers.as_deref().unwrap_or("none")
            )?;
            for function in &d.functions {
                writeln!(f, "  runs: {function}")?;
            }
            for note in &d.notes {
                writeln!(f, "  note: {note}")?;
            }
        }
        Ok(())
    }
}

/// `routes show`.
pub fn show(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Error> {
    let profile = session::profile(settings, printer)?;
    printer.result(&RoutesReport {
        schema: 1,
        stack: profile.stack.name.clone(),
        routes: rows(&profile),
        decisions: Vec::new(),
    })?;
    Ok(ExitStatus::Success)
}

/// `routes test [REQUEST...]`: without requests, the profile's `[[route_tests]]`.
pub fn test(settings: &Settings, printer: &Printer, requests: &[String]) -> Result<ExitStatus, Error> {
    let profile = session::profile(settings, printer)?;
    let asked: Vec<String> = match requests.is_empty() {
        true => profile.routes.tests.iter().map(|t| t.request.clone()).collect(),
        false => requests.to_vec(),
    };
    if asked.is_empty() {
        return Err(Error::Refused {
            path: settings.profile.clone(),
            reason: "no request to test: none given, and the profile has no [[route_tests]]".into(),
            fix: "pass requests, e.g. `ahi-edge routes test \"GET /api/users?x=1\" /dashboard/42`".into(),
        });
    }
    let mut decisions = Vec::new();
    for request in &asked {
        let decision = profile
            .routes
            .evaluate(&profile.stack.name, request)
            .map_err(|reason| Error::Refused {
                path: settings.profile.clone(),
                reason: format!("request {request:?}: {reason}"),
                fix: "write requests as \"GET /path?query\" or \"/path\"".into(),
            })?;
        decisions.push(decision);
    }
    printer.result(&RoutesReport {
        schema: 1,
        stack: profile.stack.name.clone(),
        routes: rows(&profile),
        decisions,
    })?;
    Ok(ExitStatus::Success)
}
