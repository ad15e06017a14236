//! The route table's rules, offline: what `validate` reports about routes
//! beyond the syntax of each key. Pure; the profile reader maps each
//! finding's [`Field`] to the file, line and column it came from.

use super::{OriginKind, Table, pattern};

/// Where a finding belongs in the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// `routes[i].<key>`
    Route(usize, &'static str),
    /// `origins.<name>.<key>` (`""`: the table itself)
    Origin(String, &'static str),
    /// `route_tests[i]`
    Test(usize),
    /// `signers.<name>`
    Signer(String),
    /// The `[[routes]]` list as a whole.
    Routes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub field: Field,
    pub error: bool,
    pub message: String,
    pub fix: String,
}

fn error(field: Field, message: String, fix: String) -> Finding {
    Finding {
        field,
        error: true,
        message,
        fix,
    }
}

fn warning(field: Field, message: String, fix: String) -> Finding {
    Finding {
        field,
        error: false,
        message,
        fix,
    }
}

/// Every rule over the whole table (each route's own keys were checked
/// when read). `stack` names the generated functions in messages.
pub fn check(table: &Table, stack: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let routes = &table.routes;
    let defaults: Vec<usize> = (0..routes.len())
        .filter(|i| pattern::is_default(&routes[*i].path))
        .collect();
    match defaults.as_slice() {
        [] => out.push(error(
            Field::Routes,
            "no default route: a request no route matches would have nowhere to go".into(),
            "add a last [[routes]] with path = \"*\" (CloudFront's default behaviour)".into(),
        )),
        [one] if *one != routes.len() - 1 => out.push(error(
            Field::Route(*one, "path"),
            format!(
                "the default route is route {} of {}: CloudFront tries it after every other route",
                one + 1,
                routes.len()
            ),
            "move the route with path = \"*\" to the end of the list".into(),
        )),
        [_] => {}
        [_, rest @ ..] => {
            for i in rest {
                out.push(error(
                    Field::Route(*i, "path"),
                    "a second default route: a distribution has exactly one".into(),
                    "give it a path pattern, or remove it".into(),
                ));
            }
        }
    }
    for (j, route) in routes.iter().enumerate() {
        if pattern::is_default(&route.path) {
            continue;
        }
        if let Some(i) = (0..j).find(|i| {
            !pattern::is_default(&routes[*i].path) && pattern::includes(&routes[*i].path, &route.path)
        }) {
            out.push(error(
                Field::Route(j, "path"),
                format!(
                    "route {} is never reached: every path it matches matches route {} ({}) first, e.g. GET {} matches route {} first",
                    j + 1,
                    i + 1,
                    routes[i].path,
                    pattern::example(&route.path),
                    i + 1
                ),
                format!(
                    "move it above route {}, or remove it (the first match wins)",
                    i + 1
                ),
            ));
            continue;
        }
        let normal = pattern::normal(&route.path);
        if let Some(bare) = normal.strip_suffix("/*")
            && !bare.is_empty()
            && !route.bare_path_elsewhere
            && !pattern::matches(&route.path, bare)
        {
            let k = table.route_for(bare);
            out.push(warning(
                Field::Route(j, "path"),
                format!(
                    "{bare} (no trailing slash) does not match {}: it goes to route {} ({}, origin {})",
                    route.path,
                    k + 1,
                    routes[k].path,
                    routes[k].origin
                ),
                format!(
                    "if {bare} belongs to origin {} too, add a route with path = {bare:?} above; if it is meant \
                     for route {}, say so with bare_path = \"elsewhere\" on this route",
                    route.origin,
                    k + 1
                ),
            ));
        }
    }
    for (j, route) in routes.iter().enumerate() {
        if let Some(prefix) = &route.transform.strip_prefix {
            let literal = pattern::literal_prefix(&route.path);
            if !prefix.starts_with('/')
                || !literal.starts_with(prefix.as_str())
                || pattern::is_default(&route.path)
            {
                out.push(error(
                    Field::Route(j, "strip_prefix"),
                    format!(
                        "is not a literal prefix of the route's path {:?}: some requests would not start with it",
                        route.path
                    ),
                    format!(
                        "use a prefix of {literal:?}, e.g. {:?}",
                        literal.trim_end_matches('/')
                    ),
                ));
            }
        }
        if route.authorizer && route.transform.rewrites_path() {
            out.push(error(
                Field::Route(j, if route.transform.strip_prefix.is_some() { "strip_prefix" } else { "spa" }),
                format!(
                    "route {} needs both the JWT authorizer (Lambda@Edge, viewer-request) and a rewrite (a CloudFront Function, viewer-request); CloudFront allows no CloudFront Function beside Lambda@Edge on viewer events",
                    j + 1
                ),
                "drop the rewrite from this route (serve the prefix at the origin), or set auth = false".into(),
            ));
        }
        let Some(origin) = table.origin(&route.origin) else {
            continue;
        };
        if let OriginKind::S3 {
            list: true, bucket, ..
        } = &origin.kind
        {
            let shortest = pattern::shortest(&route.path);
            let uri = route.transform.apply("GET", &shortest);
            if uri == "/" {
                out.push(error(
                    Field::Origin(origin.name.clone(), "list"),
                    format!(
                        "GET {shortest} reaches bucket {bucket} as / (route {}, {}): with s3:ListBucket granted, S3 answers that with a listing of every key",
                        j + 1,
                        route.path
                    ),
                    "remove list = true (a missing key then answers 403), or give the route an SPA fallback so / is never asked of the bucket".into(),
                ));
            }
        }
        if matches!(origin.kind, OriginKind::HealthImaging)
            && route.transform.rewrites_path()
            && !route.authorizer
        {
            out.push(error(
                Field::Route(j, if route.transform.strip_prefix.is_some() { "strip_prefix" } else { "spa" }),
                "the healthimaging origin takes HealthImaging's own paths (/datastore/...): nothing to rewrite".into(),
                "remove the rewrite from this route".into(),
            ));
        }
    }
    let behaviours = routes.len().saturating_sub(1);
    if behaviours > table.quotas.behaviors {
        out.push(error(
            Field::Routes,
            format!(
                "{} routes make {behaviours} cache behaviours besides the default; the quota is {}",
                routes.len(),
                table.quotas.behaviors
            ),
            "merge routes, or raise the quota with AWS and set [cloudfront.quotas] behaviors".into(),
        ));
    }
    let used: Vec<&str> = table
        .origins
        .iter()
        .map(|o| o.name.as_str())
        .filter(|n| routes.iter().any(|r| r.origin == *n))
        .collect();
    if used.len() > table.quotas.origins {
        out.push(error(
            Field::Routes,
            format!(
                "the routes use {} origins; the quota is {}",
                used.len(),
                table.quotas.origins
            ),
            "raise the quota with AWS and set [cloudfront.quotas] origins".into(),
        ));
    }
    for o in &table.origins {
        if !used.contains(&o.name.as_str()) {
            let (message, fix) = if matches!(o.kind, OriginKind::HealthImaging) {
                (
                    "no route reaches the HealthImaging proxy".to_string(),
                    "add a route with origin = \"healthimaging\", e.g. path = \"/datastore/*\"".to_string(),
                )
            } else {
                (
                    "no route uses this origin".to_string(),
                    format!("route to it (origin = {:?}) or remove it", o.name),
                )
            };
            out.push(warning(Field::Origin(o.name.clone(), ""), message, fix));
        }
    }
    let signers_used: Vec<&str> = table
        .signers
        .iter()
        .map(|s| s.name.as_str())
        .filter(|n| routes.iter().any(|r| r.signed.as_deref() == Some(*n)))
        .collect();
    if signers_used.len() > table.quotas.key_groups {
        out.push(error(
            Field::Routes,
            format!(
                "the routes use {} signers (one key group each); the account quota is {} key groups",
                signers_used.len(),
                table.quotas.key_groups
            ),
            "share a signer between routes, or raise the quota with AWS and set [cloudfront.quotas] key_groups".into(),
        ));
    }
    for s in &table.signers {
        if !signers_used.contains(&s.name.as_str()) {
            out.push(warning(
                Field::Signer(s.name.clone()),
                "no route uses this signer: its keys are not deployed".into(),
                format!(
                    "add signed = {:?} to the routes it protects, or remove it",
                    s.name
                ),
            ));
        }
    }
    for (key, t) in table.functions() {
        let size = t.code().len();
        if size > table.quotas.function_size {
            out.push(error(
                Field::Routes,
                format!(
                    "the function {} is {size} bytes; CloudFront's quota is {}",
                    super::function_name(stack, &key),
                    table.quotas.function_size
                ),
                "shorten the prefix or index path".into(),
            ));
        }
    }
    for (i, message) in table.run_tests(stack) {
        out.push(error(
            Field::Test(i),
            message,
            "fix the route table, or the test's expectation".into(),
        ));
    }
    out
}
