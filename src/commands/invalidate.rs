//! `ahi-edge invalidate [PATH...] [--route ROUTE] [--no-wait]`: one
//! CloudFront invalidation of the stack's distribution (after a new build of
//! a single-page app is copied to its bucket, say), then a wait for
//! `Completed` unless told not to. Paths are checked against CloudFront's
//! rules before any call; the distribution comes from the lockfile.

use crate::engine::kind::Output;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use serde::Serialize;

use super::session;
use crate::aws::AwsError;
use crate::cli::InvalidateArgs;
use crate::engine::progress::Progress;
use crate::engine::wait::{Backoff, Check, CheckError, Jitter, Wait, scaled};
use crate::error::{Error, ExitStatus};
use crate::lockfile::Lockfile;
use crate::output::Printer;
use crate::profile::Profile;
use crate::routes::pattern;
use crate::settings::Settings;
use crate::stack::output;

/// CloudFront's limits on what one distribution may have in progress
/// (developer guide, "Invalidating files", "Concurrent invalidation
/// request maximum"): a request over them can never be accepted.
pub const MAX_PATHS: usize = 3000;
pub const MAX_WILDCARD_PATHS: usize = 15;
/// The longest path CloudFront accepts in an invalidation.
const MAX_PATH_LEN: usize = 4000;
/// Invalidations usually complete within minutes; past this, `status`
/// or a new run picks it up.
const WAIT: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Serialize)]
pub struct InvalidationReport {
    pub schema: u32,
    pub distribution_id: String,
    pub invalidation_id: String,
    pub paths: Vec<String>,
    /// `InProgress` (with --no-wait) or `Completed`.
    pub status: String,
}

impl fmt::Display for InvalidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "invalidation {} of distribution {}: {} ({} path{}: {})",
            self.invalidation_id,
            self.distribution_id,
            self.status,
            self.paths.len(),
            if self.paths.len() == 1 { "" } else { "s" },
            self.paths.join(" ")
        )
    }
}

/// Why a path cannot be invalidated, with the fix.
fn path_problem(path: &str) -> Option<(String, String)> {
    if !path.starts_with('/') {
        return Some((
            "does not start with /".into(),
            format!(
                "write it from the distribution's root, e.g. /{}",
                path.trim_start_matches('/')
            ),
        ));
    }
    if path.len() > MAX_PATH_LEN {
        return Some((
            format!(
                "is {} characters long; CloudFront accepts at most {MAX_PATH_LEN}",
                path.len()
            ),
            "invalidate a shorter prefix ending in *".into(),
        ));
    }
    if let Some(at) = path.find('*')
        && at != path.len() - 1
    {
        return Some((
            "has a * before its end; CloudFront allows * only as the last character".into(),
            format!("use {}*", &path[..at]),
        ));
    }
    if let Some(c) = path.chars().find(|c| !c.is_ascii_graphic()) {
        return Some((
            format!("holds {c:?}, which CloudFront needs percent-encoded"),
            format!("write it as {}", urlencoding::encode(&c.to_string())),
        ));
    }
    None
}

/// The invalidation path that covers every request a route matches.
fn route_path(route_path: &str) -> String {
    if pattern::is_default(route_path) {
        return "/*".into();
    }
    let literal = pattern::literal_prefix(route_path);
    match literal.len() == pattern::normal(route_path).len() {
        true => literal,
        false => format!("{literal}*"),
    }
}

/// The paths to invalidate, checked: every problem at once, as bad input.
fn paths(
    settings: &Settings,
    profile: Option<&Profile>,
    args: &InvalidateArgs,
) -> Result<Vec<String>, Error> {
    let mut paths = args.paths.clone();
    let mut problems = Vec::new();
    for asked in &args.routes {
        let routes = profile.map(|p| p.routes.routes.as_slice()).unwrap_or_default();
        let by_number = asked
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| routes.get(i));
        match by_number.or_else(|| {
            routes
                .iter()
                .find(|r| r.path == *asked || pattern::normal(&r.path) == *asked)
        }) {
            Some(route) => paths.push(route_path(&route.path)),
            None => problems.push(format!(
                "--route {asked:?}: no such route in {} (routes: {})",
                settings.profile.display(),
                match routes.is_empty() {
                    true => "none".to_string(),
                    false => routes
                        .iter()
                        .enumerate()
                        .map(|(i, r)| format!("{} {}", i + 1, r.path))
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            )),
        }
    }
    if paths.is_empty() && problems.is_empty() {
        return Err(Error::BadFlag {
            flag: "PATH",
            value: String::new(),
            reason: "no path or --route given".into(),
            fix: "name what changed, e.g. `ahi-edge invalidate /index.html`, or `/*` for everything".into(),
        });
    }
    paths.sort();
    paths.dedup();
    for path in &paths {
        if let Some((reason, fix)) = path_problem(path) {
            problems.push(format!("{path:?} {reason} (fix: {fix})"));
        }
    }
    let wildcards = paths.iter().filter(|p| p.ends_with('*')).count();
    if paths.len() > MAX_PATHS {
        problems.push(format!(
            "{} paths: CloudFront allows at most {MAX_PATHS} in progress per distribution (fix: invalidate a common prefix ending in *)",
            paths.len()
        ));
    }
    if wildcards > MAX_WILDCARD_PATHS {
        problems.push(format!(
            "{wildcards} paths ending in *: CloudFront allows at most {MAX_WILDCARD_PATHS} in progress per distribution (fix: invalidate a shorter common prefix)"
        ));
    }
    match problems.is_empty() {
        true => Ok(paths),
        false => Err(Error::Refused {
            path: settings.profile.clone(),
            reason: format!(
                "checked before any call; nothing was invalidated:\n      {}",
                problems.join("\n      ")
            ),
            fix: "correct the paths above and run the command again".into(),
        }),
    }
}

pub fn run(settings: &Settings, printer: &Printer, args: &InvalidateArgs) -> Result<ExitStatus, Error> {
    let profile = match args.routes.is_empty() {
        true => session::profile_if_present(settings, printer).ok().flatten(),
        false => Some(session::profile(settings, printer)?),
    };
    let paths = paths(settings, profile.as_ref(), args)?;
    let lock = session::snapshot(settings, printer, profile.as_ref())?.unwrap_or_else(|| Lockfile::new(""));
    let Ok(distribution_id) = output(&lock, "distribution", Output::ID) else {
        return Err(Error::Refused {
            path: settings.lockfile.clone(),
            reason: "records no distribution: nothing is deployed to invalidate".into(),
            fix: format!("run `ahi-edge up{}` first", settings.flags()),
        });
    };
    session::runtime()?.block_on(async {
        let (clients, _) = session::clients(settings).await?;
        let cloudfront = clients.cloudfront();
        let batch = InvalidationBatch::builder()
            .paths(
                Paths::builder()
                    .quantity(paths.len() as i32)
                    .set_items(Some(paths.clone()))
                    .build()
                    .map_err(|e| Error::io("building the invalidation", std::io::Error::other(e)))?,
            )
            .caller_reference(caller_reference())
            .build()
            .map_err(|e| Error::io("building the invalidation", std::io::Error::other(e)))?;
        let created = cloudfront
            .create_invalidation()
            .distribution_id(&distribution_id)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(|e| refused_or_failed(settings, AwsError::from_sdk("CreateInvalidation", e)))?;
        let invalidation = created
            .invalidation()
            .ok_or_else(|| Error::Aws(AwsError::missing("CreateInvalidation", "Invalidation")))?;
        let id = invalidation.id().to_string();
        let mut status = invalidation.status().to_string();
        if !args.no_wait && status != "Completed" {
            status = wait_completed(printer, &cloudfront, &distribution_id, &id).await?;
        }
        printer.result(&InvalidationReport {
            schema: 1,
            distribution_id: distribution_id.clone(),
            invalidation_id: id.clone(),
            paths,
            status: status.clone(),
        })?;
        if status != "Completed" {
            printer.info(format!(
                "next: `aws cloudfront get-invalidation --distribution-id {distribution_id} --id {id}` says when it is Completed"
            ));
        }
        Ok(ExitStatus::Success)
    })
}

/// Unique per run: CloudFront treats a reused reference with other paths as
/// an error, and the same one as the same request.
fn caller_reference() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("ahi-edge-invalidate-{nanos}-{}", std::process::id())
}

/// CloudFront's quota answers are the user's to act on (exit 2), not a failure.
fn refused_or_failed(settings: &Settings, e: AwsError) -> Error {
    match e.is_any(&["TooManyInvalidationsInProgress", "BatchTooLarge", "InvalidArgument"]) {
        true => Error::Refused {
            path: settings.lockfile.clone(),
            reason: format!("CloudFront refused the invalidation: {e}"),
            fix: "wait for the invalidations in progress to complete (or invalidate fewer paths, or a common prefix ending in *), then run again".into(),
        },
        false => Error::Aws(e),
    }
}

async fn wait_completed(
    printer: &Printer,
    cloudfront: &aws_sdk_cloudfront::Client,
    distribution_id: &str,
    id: &str,
) -> Result<String, Error> {
    let progress = Progress::new(printer.progress());
    let typical = Duration::from_secs(60);
    let step = format!("invalidation {id}");
    progress.expect([(step.clone(), typical)]);
    let waited = Wait {
        what: step.clone(),
        timeout: scaled(WAIT),
        backoff: Backoff {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(20),
            factor: 1.5,
            jitter: 0.2,
        }
        .scaled(),
    }
    .until(
        &mut Jitter::from_entropy(),
        || async {
            let answer = cloudfront
                .get_invalidation()
                .distribution_id(distribution_id)
                .id(id)
                .send()
                .await
                .map_err(|e| CheckError::Transient(AwsError::from_sdk("GetInvalidation", e).to_string()))?;
            match answer.invalidation().map(|i| i.status()) {
                Some("Completed") => Ok(Check::Done(())),
                Some(other) => Ok(Check::Pending(other.to_string())),
                None => Err(CheckError::Fatal(
                    "GetInvalidation: the answer has no Invalidation".into(),
                )),
            }
        },
        |p| progress.state(&step, typical, &format!("waiting: {}", p.state)),
    )
    .await;
    progress.clear();
    match waited {
        Ok(()) => Ok("Completed".into()),
        Err(crate::engine::wait::WaitError::Timeout { .. }) => {
            printer.warn(format!(
                "{step} is still in progress after {}; CloudFront completes it on its own",
                humantime::format_duration(scaled(WAIT))
            ));
            Ok("InProgress".into())
        }
        Err(e) => Err(Error::io(step, std::io::Error::other(e.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_cloudfronts_rules() {
        assert_eq!(path_problem("/index.html"), None);
        assert_eq!(path_problem("/*"), None);
        assert_eq!(path_problem("/images/*"), None);
        assert!(path_problem("index.html").unwrap().1.contains("/index.html"));
        assert!(path_problem("/a*/b").unwrap().0.contains("only as the last"));
        assert!(path_problem("/a b").unwrap().1.contains("%20"));
        assert!(path_problem("/a\nb").is_some());
        assert!(path_problem(&format!("/{}", "a".repeat(MAX_PATH_LEN))).is_some());
    }

    #[test]
    fn a_route_becomes_the_path_that_covers_it() {
        assert_eq!(route_path("/api/*"), "/api/*");
        assert_eq!(route_path("*"), "/*");
        assert_eq!(route_path("/index.html"), "/index.html");
        assert_eq!(route_path("/img/*.jpg"), "/img/*");
        assert_eq!(route_path("/v?/x"), "/v*");
    }
}
