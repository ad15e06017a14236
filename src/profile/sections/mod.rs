//! Reads each profile section, applies its rules, and resolves defaults.
//!
//! Every section reads all of its keys before judging them, so unknown keys
//! get a "did you mean" from the complete list, and every problem in the
//! file is reported in one run.

use std::path::Path;

use toml::de::DeTable;

use super::Delivery;
use super::diagnostic::{Diagnostics, Located, Place, Severity};
use super::toml_reader::Table;
use super::{Profile, Report};

mod auth;
mod examples;
mod origin;
mod routes;
mod runtime;
mod stack;
mod state;

use auth::read_auth;
use origin::{read_alb, read_cloudfront};
use runtime::{read_lambda_edge, read_logs, read_network, read_proxy};
use stack::{check_derived_names, read_healthimaging, read_stack};

pub fn read(path: &Path, text: &str) -> Report {
    let mut d = Diagnostics::new(path, text);
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim_end();
            // The parser says only "duplicate key": name the key or table.
            let named = text
                .get(span.clone())
                .map(|k| k.trim().trim_matches('"'))
                .filter(|k| !k.is_empty());
            let line_start = text[..span.start.min(text.len())]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let header = text[line_start..].trim_start().starts_with('[');
            let (key, what, fix) = match named {
                Some(k) if message.contains("duplicate key") && header => (
                    k.to_string(),
                    format!("the table [{k}] is defined twice"),
                    format!("merge the two [{k}] tables into one"),
                ),
                Some(k) if message.contains("duplicate key") => (
                    k.to_string(),
                    format!("the key {k} is set twice in its table"),
                    format!("keep one {k} = ... line"),
                ),
                _ => (
                    "(toml)".to_string(),
                    format!("not valid TOML: {message}"),
                    "correct the TOML syntax at this line and column".to_string(),
                ),
            };
            d.push(Severity::Error, &key, &span, None, what, fix);
            return Report {
                profile: None,
                problems: d.into_problems(),
            };
        }
    };
    let mut root = Table::root(doc.get_ref(), doc.span());
    let stack = read_stack(&mut d, &mut root);
    let with_healthimaging = root.contains("healthimaging");
    if !with_healthimaging && !root.contains("routes") {
        let place = root.place().clone();
        d.missing(
            &place,
            "healthimaging",
            "the profile deploys nothing: it has neither [healthimaging] nor [[routes]]",
            "add [healthimaging] with region = \"us-east-1\" (HealthImaging delivery), or [origins.NAME] and [[routes]] (a reverse proxy; `ahi-edge init --template reverse-proxy`)",
        );
    }
    let delivery = if with_healthimaging {
        let healthimaging = read_healthimaging(&mut d, &mut root);
        let auth = read_auth(&mut d, &mut root);
        let alb = read_alb(
            &mut d,
            &mut root,
            healthimaging.as_ref().map(|h| h.region.as_str()),
        );
        let proxy = read_proxy(&mut d, &mut root);
        let network = read_network(&mut d, &mut root);
        let lambda_edge = read_lambda_edge(&mut d, &mut root, &auth);
        (|| {
            Some(Delivery {
                healthimaging: healthimaging?,
                auth: auth?,
                alb: alb?,
                proxy: proxy?,
                network: network?,
                lambda_edge: lambda_edge?,
            })
        })()
    } else {
        for section in ["auth", "alb", "proxy", "network", "lambda_edge"] {
            if root.contains(section) {
                let span = root.place().span.clone();
                let at = root
                    .table(&mut d, section)
                    .map_or(span, |t| t.place().span.clone());
                d.push(
                    Severity::Error,
                    section,
                    &at,
                    None,
                    format!("[{section}] belongs to the HealthImaging stack, and this profile has no [healthimaging]"),
                    format!("add [healthimaging] with region = \"us-east-1\", or remove [{section}]"),
                );
            }
        }
        None
    };
    let region = match (&stack, &delivery) {
        (Some((_, _, Some(r))), Some(hi)) if r.value != hi.healthimaging.region => {
            d.error(
                r,
                format!(
                    "differs from [healthimaging] region {:?}: the stack's regional resources live beside the data store",
                    hi.healthimaging.region
                ),
                "remove [stack] region (it follows [healthimaging])",
            );
            None
        }
        (_, Some(hi)) => Some(hi.healthimaging.region.clone()),
        (Some((_, _, Some(r))), None) => Some(r.value.clone()),
        (Some((_, name, None)), None) if !with_healthimaging => {
            d.missing(
                &Place {
                    key: "stack".into(),
                    span: name.span.clone(),
                },
                "region",
                "a routes-only profile needs a region for the stack's log bucket (and its buckets' default region)",
                "add region = \"us-east-1\" to [stack]",
            );
            None
        }
        _ => None,
    };
    let state = state::read_state(&mut d, &mut root, region.as_deref());
    let auth = delivery.as_ref().map(|hi| hi.auth.clone());
    let cloudfront = read_cloudfront(&mut d, &mut root, &auth);
    let logs = read_logs(&mut d, &mut root);
    let routes = match (&stack, &cloudfront) {
        (Some((s, _, _)), Some(cf)) if !(with_healthimaging && delivery.is_none()) => routes::read_routes(
            &mut d,
            &mut root,
            &routes::Context {
                stack: &s.name,
                region: region.as_deref(),
                healthimaging: delivery.as_ref().map(Delivery::authorizer),
                healthimaging_scope: delivery
                    .as_ref()
                    .map(|d| crate::routes::scope_function::EdgeScope {
                        datastores: d.healthimaging.datastores.clone(),
                        operations: d
                            .healthimaging
                            .operation_names()
                            .iter()
                            .map(|o| o.to_string())
                            .collect(),
                    }),
                healthimaging_methods: match delivery.as_ref().is_some_and(|d| d.healthimaging.needs_post()) {
                    true => crate::routes::Methods::All,
                    false => crate::routes::Methods::GetHeadOptions,
                },
                quotas: cf.quotas,
                dir: path.parent().unwrap_or(Path::new(".")),
            },
        ),
        _ => {
            // Mark the keys known; their errors wait for the sections above.
            for key in ["origins", "routes", "route_tests", "signers"] {
                root.skip(key);
            }
            None
        }
    };
    root.finish(&mut d);
    examples::warn(&mut d, text);

    if let (Some((stack, name_at, _)), Some(region)) = (&stack, &region) {
        check_derived_names(&mut d, name_at, &stack.name, region);
    }

    // Every section returns None only after reporting an error, so with no
    // errors all of them are present.
    let resolve = || {
        let (routes, explicit_routes) = routes?;
        Some(Profile {
            stack: stack?.0,
            region: region?,
            delivery: match with_healthimaging {
                true => Some(delivery?),
                false => None,
            },
            cloudfront: cloudfront?,
            logs: logs?,
            routes,
            explicit_routes,
            state: state?,
        })
    };
    let profile = if d.has_errors() { None } else { resolve() };
    Report {
        profile,
        problems: d.into_problems(),
    }
}

/// A required sub-table; reports it missing with an example to paste.
pub(super) fn required_table<'t, 'i>(
    d: &mut Diagnostics,
    parent: &mut Table<'t, 'i>,
    name: &'static str,
    example: &str,
) -> Option<Table<'t, 'i>> {
    let place = parent.place().clone();
    let table = parent.table(d, name);
    if table.is_none() && !parent.contains(name) {
        d.missing(&place, name, "missing required table", format!("add {example}"));
    }
    table
}

/// Reports a required key that is absent (a wrong type was already reported).
pub(super) fn require<T>(
    d: &mut Diagnostics,
    t: &Table,
    name: &str,
    value: Option<T>,
    fix: &str,
) -> Option<T> {
    if value.is_none() && !t.contains(name) {
        d.missing(t.place(), name, "missing required key", fix.to_string());
    }
    value
}

/// Checks a value against a fixed set of choices.
pub(super) fn one_of(d: &mut Diagnostics, at: &Located<String>, choices: &[&str]) -> Option<String> {
    if choices.contains(&at.value.as_str()) {
        return Some(at.value.clone());
    }
    let close = choices
        .iter()
        .find(|c| c.eq_ignore_ascii_case(&at.value) || strsim::jaro_winkler(c, &at.value) > 0.85);
    let fix = match close {
        Some(c) => format!("did you mean \"{c}\"? (one of: {})", choices.join(", ")),
        None => format!("use one of: {}", choices.join(", ")),
    };
    d.error(at, "is not a supported value", fix);
    None
}

/// A key that the chosen mode requires.
pub(super) fn need<T>(
    d: &mut Diagnostics,
    place: &Place,
    name: &str,
    value: Option<T>,
    why: &str,
) -> Option<T> {
    if value.is_none() {
        d.missing(place, name, format!("missing: {why}"), format!("add {name}"));
    }
    value
}

pub(super) fn join_nums(n: &[i64]) -> String {
    n.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

/// AWS allows 50 tags per resource; ahi-edge adds `ahi-edge:stack`, `ahi-edge:resource` and `Name`.
pub(super) const MAX_USER_TAGS: usize = 47;

pub(super) const PRICE_CLASSES: &[&str] = &["PriceClass_All", "PriceClass_200", "PriceClass_100"];
pub(super) const CACHE_SCOPES: &[&str] = &["shared", "per_viewer"];

pub(super) const ARCHITECTURES: &[&str] = &["x86_64", "arm64"];

pub(super) const LOG_LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace"];

pub(super) const AUTH_MODES: &[&str] = &["cognito_jwt", "oidc", "none"];

pub(super) const MAX_CACHE_HEADERS: usize = 10;
