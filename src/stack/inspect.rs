//! Read-only looks, the same for every kind: `status` (each lockfile entry
//! live, against the spec `up` applied) and `plan` (each instance the
//! profile wants, against what is live), and the pre-flight that refuses a
//! change the stack cannot absorb before any call that writes.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::instance::{Instance, Sources, UNKNOWN};
use super::{Ctx, StepError, apply::kind_of, call_region, registry};
use crate::engine::kind::{At, Decision, Found, Kind, decide, differing};
use crate::kinds::public_key::PUBLIC_KEY;
use crate::lockfile::{Entry, Lockfile, State};
use crate::profile::Profile;

/// The health of one resource, as `status --json` reports it (docs/status.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceStatus {
    pub id: String,
    pub kind: String,
    pub region: String,
    pub physical_id: Option<String>,
    /// The lockfile's lifecycle state (`ready`, `creating`, `awaiting-replicas`...).
    pub recorded: String,
    /// `ok`, `missing`, `drifted`, `not-owned`, `incomplete` (never finished
    /// creating), `awaiting-replicas`, or `unknown` (could not be read).
    pub health: String,
    /// Fields that differ from what `up` applied.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<String>,
    /// Live detail: deploy status, ALB state, ECS counts, version.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// Lambda@Edge: replicas per region (only regions that hold some).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<BTreeMap<String, usize>>,
}

impl ResourceStatus {
    pub fn needs_attention(&self) -> bool {
        matches!(
            self.health.as_str(),
            "missing" | "drifted" | "incomplete" | "unknown" | "not-owned"
        )
    }
}

fn state_name(state: State) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Looks at entry `id` live, in the region it records.
pub async fn entry(cx: &Ctx, id: &str, entry: &Entry) -> ResourceStatus {
    let mut status = ResourceStatus {
        id: id.to_string(),
        kind: entry.kind.clone(),
        region: entry.region.clone(),
        physical_id: entry.physical_id.clone(),
        recorded: state_name(entry.state),
        health: String::new(),
        drift: Vec::new(),
        detail: String::new(),
        replicas: None,
    };
    if entry.physical_id.is_none() {
        status.health = "incomplete".into();
        status.detail = "the create never finished; run `ahi-edge up` to finish it".into();
        return status;
    }
    match look(cx, id, entry).await {
        Ok(seen) => {
            status.detail = seen.detail;
            status.replicas = seen.replicas;
            status.health = match (entry.state, seen.found) {
                (State::AwaitingReplicas, false) => {
                    status.detail = "gone; the next `ahi-edge down` forgets it".into();
                    "ok".into()
                }
                (State::AwaitingReplicas, true) => "awaiting-replicas".into(),
                (_, false) => "missing".into(),
                (State::Creating, true) => "incomplete".into(),
                _ if !seen.owned => "not-owned".into(),
                _ if !seen.drift.is_empty() => {
                    status.drift = seen.drift;
                    "drifted".into()
                }
                _ => "ok".into(),
            };
        }
        Err(e) => {
            status.health = "unknown".into();
            status.detail = e.to_string();
        }
    }
    status
}

struct Seen {
    found: bool,
    owned: bool,
    drift: Vec<String>,
    detail: String,
    replicas: Option<BTreeMap<String, usize>>,
}

async fn look(cx: &Ctx, id: &str, entry: &Entry) -> Result<Seen, StepError> {
    let kind = kind_of(&entry.kind)?;
    let spec = entry.spec_value();
    let at = At::new(
        id,
        call_region(&entry.region),
        &spec,
        Some(super::recorded(entry)),
    );
    let found = kind.find(cx, &at).await?;
    let replicas = kind.remains(cx, &at).await?;
    Ok(match found {
        None => Seen {
            found: false,
            owned: false,
            drift: vec![],
            detail: String::new(),
            replicas,
        },
        Some(live) => {
            let mut detail = live.detail.clone();
            if spec.is_null() {
                // Migrated from schema 1: nothing applied is recorded yet.
                detail = format!("{detail} (applied spec not recorded yet: run `ahi-edge up`)")
                    .trim()
                    .to_string();
            }
            Seen {
                found: true,
                owned: live.owned,
                drift: if spec.is_null() {
                    vec![]
                } else {
                    differing(&spec, &live.live)
                },
                detail,
                replicas,
            }
        }
    })
}

/// One line of `plan`.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub id: String,
    pub kind: String,
    /// `create`, `update`, `replace` (refused by `up`), `unchanged`,
    /// `delete` (recorded but no longer in the profile), or `refused`.
    pub action: String,
    /// The fields that would change, or why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// For `update` and `replace`: each field's live value and the value
    /// `up` would send (specs hold no secret values: the origin secret is
    /// referenced by ARN and version).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// What the change waits for at the edge: a distribution deploy
    /// (minutes) or only a function publish (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<&'static str>,
    /// What the change breaks for someone (a signing key that goes away).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// What a change of `kind` waits for at the edge (CloudFront kinds only).
pub fn deploy(kind: &str, action: &str) -> Option<&'static str> {
    match action {
        "unchanged" | "refused" | "unknown" => None,
        _ => registry::kind(kind).and_then(|k| k.deploy_note(action)),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: Value,
    pub new: Value,
}

/// What the profile's instances would be, planned: outputs of what `up`
/// would create, or update with new outputs, are unknown.
pub async fn plan(
    cx: &Ctx,
    profile: &Profile,
    instances: &[Instance],
    lock: &Lockfile,
    package_sha: Option<String>,
) -> Vec<Step> {
    let mut unknown: Vec<String> = Vec::new();
    let mut steps = Vec::new();
    let graph = super::instance::graph(instances.iter().map(|i| (i.id.as_str(), i.needs.as_slice())));
    for id in graph.order() {
        let Some(inst) = instances.iter().find(|i| i.id == id) else {
            continue;
        };
        if inst.is_wait() {
            continue;
        }
        let step = |action: &str, fields: Vec<String>| Step {
            id: inst.id.clone(),
            kind: inst.kind.to_string(),
            action: action.to_string(),
            fields,
            changes: Vec::new(),
            deploy: deploy(inst.kind, action),
            warning: None,
        };
        let masked = masked(lock, &unknown);
        let src = Sources {
            profile,
            lock: &masked,
            account: &cx.account,
            package_sha: package_sha.clone(),
            planning: true,
            reads: Default::default(),
        };
        let spec = match inst.spec(&src) {
            Some(Ok(spec)) => spec,
            Some(Err(e)) => {
                steps.push(step("refused", vec![e.to_string()]));
                continue;
            }
            None => continue,
        };
        let Some(entry) = lock.resources.get(&inst.id) else {
            unknown.push(inst.id.clone());
            steps.push(step("create", vec![]));
            continue;
        };
        let Ok(kind) = kind_of(inst.kind) else {
            continue;
        };
        let at = At::new(
            &inst.id,
            call_region(&inst.region),
            &spec,
            Some(super::recorded(entry)),
        );
        let found = match kind.find(cx, &at).await {
            Ok(found) => found,
            Err(e) => {
                steps.push(step("unknown", vec![format!("could not be read: {e}")]));
                continue;
            }
        };
        let changes = |fields: &[String], live: &Found| -> Vec<FieldChange> {
            fields
                .iter()
                .map(|f| FieldChange {
                    field: f.clone(),
                    old: live.live.get(f.as_str()).cloned().unwrap_or(Value::Null),
                    new: spec.get(f.as_str()).cloned().unwrap_or(Value::Null),
                })
                .collect()
        };
        // The decision `up` takes (`apply::ensure`), shown.
        match (decide(kind.replace_fields(), &spec, found.as_ref()), &found) {
            (Decision::Create, _) | (_, None) => {
                unknown.push(inst.id.clone());
                let why = if entry.state == State::Creating {
                    "a create that did not finish"
                } else {
                    "missing live"
                };
                steps.push(step("create", vec![why.into()]));
            }
            (Decision::NotOwned, Some(live)) => steps.push(step(
                "refused",
                vec![format!("{} is not ours (no ownership tag)", live.physical_id)],
            )),
            (Decision::Unchanged, _) => steps.push(step("unchanged", vec![])),
            (Decision::Replace(fields), Some(live)) => steps.push(Step {
                changes: changes(&fields, live),
                ..step("replace", fields)
            }),
            (Decision::Update(fields), Some(live)) => {
                if kind.update_changes_outputs() {
                    unknown.push(inst.id.clone());
                }
                steps.push(Step {
                    changes: changes(&fields, live),
                    ..step("update", fields)
                });
            }
        }
    }
    for (id, entry) in &lock.resources {
        if !instances.iter().any(|i| &i.id == id) {
            steps.push(Step {
                id: id.clone(),
                kind: entry.kind.clone(),
                action: "delete".into(),
                fields: vec!["recorded but no longer in the profile".into()],
                changes: Vec::new(),
                deploy: deploy(&entry.kind, "delete"),
                warning: (entry.kind == PUBLIC_KEY.name()).then(|| {
                    format!(
                        "URLs and cookies signed with Key-Pair-Id {} stop validating",
                        entry.physical_id.as_deref().unwrap_or("(not created)")
                    )
                }),
            });
        }
    }
    steps
}

/// The lockfile with the outputs of `unknown` ids removed, so specs that
/// need them show them as unknown.
fn masked(lock: &Lockfile, unknown: &[String]) -> Lockfile {
    let mut lock = lock.clone();
    for id in unknown {
        lock.resources.remove(id);
    }
    lock
}

/// Changes the stack cannot absorb, found from the profile and the lockfile
/// alone (no AWS call): a resource recorded in another region, or a field
/// AWS cannot change in place (the VPC under the ALB after a network
/// change). `up` and `plan` refuse them with exit 2 before any write.
pub fn refusals(
    profile: &Profile,
    instances: &[Instance],
    lock: &Lockfile,
    account: &str,
    package_sha: Option<String>,
) -> Vec<String> {
    let src = Sources {
        profile,
        lock,
        account,
        package_sha,
        planning: true,
        reads: Default::default(),
    };
    let mut out = Vec::new();
    for inst in instances.iter().filter(|i| !i.is_wait()) {
        let Some(entry) = lock.resources.get(&inst.id) else {
            continue;
        };
        let correctable = registry::kind(inst.kind).is_some_and(|k| k.region_correctable());
        if entry.region != inst.region && !correctable {
            out.push(format!(
                "{}: recorded in region {}, the profile now puts it in {}",
                inst.id, entry.region, inst.region
            ));
            continue;
        }
        let recorded = entry.spec_value();
        let (Some(Ok(spec)), Some(kind)) = (inst.spec(&src), registry::kind(inst.kind)) else {
            continue;
        };
        if recorded.is_null() {
            continue;
        }
        for field in kind.replace_fields() {
            let (old, new) = (
                recorded.get(*field).unwrap_or(&Value::Null),
                spec.get(*field).unwrap_or(&Value::Null),
            );
            if old != new {
                out.push(format!(
                    "{}: {field} = {} is recorded, the profile now gives {}{}",
                    inst.id,
                    old,
                    new,
                    if new.as_str() == Some(UNKNOWN) {
                        " (a resource the stack would make anew)"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    out
}
