//! `ahi-edge plan`: what `up` would do, from the profile vs the lockfile vs
//! what is live. Changes nothing. Exit 0 when nothing would change, 4 when
//! something would.

use std::fmt;

use serde::Serialize;

use super::session;
use super::status::read;
use crate::error::{Error, ExitStatus};
use crate::lockfile::State;
use crate::output::Printer;
use crate::settings::Settings;
use crate::stack::{changed_fields, flatten, inspect, shape};

#[derive(Debug, Serialize)]
pub struct Plan {
    pub stack: String,
    pub changes: usize,
    pub resources: Vec<Step>,
}

#[derive(Debug, Serialize)]
pub struct Step {
    pub id: String,
    pub kind: String,
    /// `create`, `update`, `replace`, `unchanged`, or `not-in-profile`
    /// (recorded but no longer wanted: `up` removes the authorizer's).
    pub action: String,
    /// The fields that would change, or why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in self.resources.iter().filter(|s| s.action != "unchanged") {
            let fields = if s.fields.is_empty() {
                String::new()
            } else {
                format!(" ({})", s.fields.join(", "))
            };
            writeln!(f, "{:<10} {:<24} {}{fields}", s.action, s.id, s.kind)?;
        }
        let same = self.resources.iter().filter(|s| s.action == "unchanged").count();
        writeln!(
            f,
            "stack {}: {} to change, {same} unchanged",
            self.stack, self.changes
        )
    }
}

/// Kinds where a change means a new immutable revision rather than an edit.
fn replaced_by_change(kind: &str) -> Option<&'static str> {
    match kind {
        "lambda-edge-function" => Some("a new version; the distribution is then pointed at it"),
        "ecs-task-definition" => Some("a new revision; the service then rolls over to it"),
        _ => None,
    }
}

pub fn run(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Error> {
    let profile = session::profile(settings, printer)?;
    let lock = read(settings, &profile.stack.name)?;
    let plan = session::runtime()?.block_on(async {
        let ctx = session::read_only(settings, &profile, &lock).await?;
        let src = ctx.sources(&lock);
        let nodes: Vec<_> = shape::for_profile(&profile)
            .into_iter()
            .filter(|n| n.kind.is_some())
            .collect();
        let looks = nodes
            .iter()
            .filter_map(|n| lock.resources.get(n.id).map(|e| (n.id, e)))
            .map(|(id, e)| {
                let ctx = &ctx;
                async move { (id.to_string(), inspect::entry(ctx, id, e).await) }
            });
        let live: std::collections::BTreeMap<String, inspect::ResourceStatus> =
            futures_util::future::join_all(looks).await.into_iter().collect();
        let mut steps = Vec::new();
        for node in &nodes {
            let kind = node.kind.unwrap_or_default().to_string();
            let step = |action: &str, fields: Vec<String>| Step {
                id: node.id.to_string(),
                kind: kind.clone(),
                action: action.to_string(),
                fields,
            };
            let Some(entry) = lock.resources.get(node.id) else {
                steps.push(step("create", vec![]));
                continue;
            };
            if entry.state == State::Creating {
                steps.push(step("create", vec!["a create that did not finish".into()]));
                continue;
            }
            if let Some(seen) = live.get(node.id) {
                if seen.health == "missing" {
                    steps.push(step("create", vec!["missing live".into()]));
                    continue;
                }
                if seen.health == "drifted" {
                    let fields = seen.drift.iter().map(|f| format!("{f} (changed live)")).collect();
                    steps.push(step("update", fields));
                    continue;
                }
            }
            let fields = match src.json(node.id) {
                Ok(Some(desired)) => changed_fields(&entry.spec, &flatten(&desired)),
                Ok(None) => Vec::new(),
                Err(e) => vec![format!("after its dependencies: {e}")],
            };
            if fields.is_empty() {
                steps.push(step("unchanged", vec![]));
            } else if let Some(why) = replaced_by_change(&kind) {
                let mut fields = fields;
                fields.push(why.to_string());
                steps.push(step("replace", fields));
            } else {
                steps.push(step("update", fields));
            }
        }
        // A new authorizer version or task revision moves what points at it.
        let replaced = |id: &str| {
            steps
                .iter()
                .any(|s| s.id == id && (s.action == "replace" || s.action == "create"))
        };
        let follow = [
            ("edge_function", "distribution", "viewer_request_authorizer"),
            ("task_definition", "service", "task_definition"),
        ];
        let mut follows = Vec::new();
        for (from, to, field) in follow {
            if replaced(from) {
                follows.push((to, field));
            }
        }
        for (to, field) in follows {
            if let Some(s) = steps
                .iter_mut()
                .find(|s| s.id == to && matches!(s.action.as_str(), "unchanged" | "update"))
            {
                s.action = "update".into();
                if !s.fields.iter().any(|f| f == field) {
                    s.fields.push(field.into());
                }
            }
        }
        for (id, entry) in &lock.resources {
            if !nodes.iter().any(|n| n.id == id) {
                steps.push(Step {
                    id: id.clone(),
                    kind: entry.kind.clone(),
                    action: "not-in-profile".into(),
                    fields: vec!["recorded but no longer in the profile".into()],
                });
            }
        }
        let changes = steps.iter().filter(|s| s.action != "unchanged").count();
        Ok::<_, Error>(Plan {
            stack: profile.stack.name.clone(),
            changes,
            resources: steps,
        })
    })?;
    printer.result(&plan)?;
    Ok(if plan.changes == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Drift
    })
}
