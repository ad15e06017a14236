//! `[origins.<name>]`, `[[routes]]` and `[[route_tests]]`: one distribution,
//! many origins. Each key is checked as it is read; then the table's rules
//! (`routes::check`: default route, shadowing, prefixes, the authorizer
//! beside a rewrite, listings, quotas, the route tests) are reported at
//! the key they concern.

use std::collections::BTreeMap;
use std::ops::Range;

use super::super::diagnostic::{Diagnostics, Located, Place, Severity};
use super::super::formats::{self as f};
use super::super::toml_reader::Table;
use super::*;
use crate::routes::check::{Field, check};
use crate::routes::managed::{self, Managed};
use crate::routes::transform::{literal_path_error, path_chars_error};
use crate::routes::{
    HEALTHIMAGING_ORIGIN, Methods, Origin, OriginKind, Policy, Quotas, Route, RouteTest, Signer, SignerKey,
    Transform, pattern,
};

/// The words that acknowledge plain HTTP between CloudFront and an origin.
pub const INSECURE_ORIGIN_ACKNOWLEDGEMENT: &str =
    "I understand encryption in transit is disabled between CloudFront and this origin";

const ORIGIN_KINDS: &[&str] = &["http", "s3", "s3_website"];
const METHOD_SETS: &[&str] = &["get_head", "get_head_options", "all"];
const DEFAULT_SPA_INDEX: &str = "/index.html";

/// One table's place and the places of its keys findings may name.
struct Spot {
    key: String,
    span: Range<usize>,
    keys: BTreeMap<&'static str, Located<String>>,
}

impl Spot {
    fn new(place: &Place, keys: BTreeMap<&'static str, Located<String>>) -> Self {
        Spot {
            key: place.key.clone(),
            span: place.span.clone(),
            keys,
        }
    }

    fn at(&self, key: &str) -> (String, Range<usize>, Option<String>) {
        match self.keys.get(key) {
            Some(at) => (at.key.clone(), at.span.clone(), Some(at.raw.clone())),
            None => (self.key.clone(), self.span.clone(), None),
        }
    }
}

/// Where each finding's key was written.
#[derive(Default)]
struct Spots {
    routes: Vec<Spot>,
    origins: BTreeMap<String, Spot>,
    tests: Vec<Spot>,
    signers: BTreeMap<String, Spot>,
}

/// What the routes reader needs from the rest of the profile.
pub(super) struct Context<'a> {
    pub stack: &'a str,
    pub region: Option<&'a str>,
    /// `Some(authorizer?)` with `[healthimaging]`.
    pub healthimaging: Option<bool>,
    /// The HealthImaging routes' methods: GET, HEAD and OPTIONS, or all
    /// (POST) when the profile enables SearchImageSets.
    pub healthimaging_methods: Methods,
    /// What a HealthImaging route without the authorizer checks in its
    /// CloudFront Function (the authorizer checks the same itself).
    pub healthimaging_scope: Option<crate::routes::scope_function::EdgeScope>,
    pub quotas: Quotas,
    /// The profile's directory: signers' key files are relative to it.
    pub dir: &'a std::path::Path,
}

/// The route table; `None` after an error. Without `[[routes]]` a
/// HealthImaging profile gets the implicit table (everything to the proxy).
pub(super) fn read_routes(
    d: &mut Diagnostics,
    root: &mut Table,
    cx: &Context,
) -> Option<(crate::routes::Table, bool)> {
    let before = d.error_count();
    let mut spots = Spots::default();
    let written_signers = root.named_tables(d, "signers");
    let written_origins = root.named_tables(d, "origins");
    let written_routes = root.table_array(d, "routes");
    let written_tests = root.table_array(d, "route_tests");
    let mut origins = Vec::new();
    if cx.healthimaging.is_some() {
        origins.push(Origin {
            name: HEALTHIMAGING_ORIGIN.into(),
            kind: OriginKind::HealthImaging,
            region_given: false,
        });
    }
    for (name, t) in written_origins.unwrap_or_default() {
        if let Some(o) = read_origin(d, &name, t, cx, &mut spots) {
            origins.push(o);
        }
    }
    let mut signers = Vec::new();
    for (name, t) in written_signers.unwrap_or_default() {
        spots
            .signers
            .insert(name.value.clone(), Spot::new(t.place(), BTreeMap::new()));
        if let Some(s) = read_signer(d, &name, t, cx) {
            signers.push(s);
        }
    }
    let explicit = root.contains("routes");
    let routes: Vec<Route> = match written_routes {
        Some(tables) => {
            let mut routes = Vec::new();
            for (i, t) in tables.into_iter().enumerate() {
                if let Some(r) = read_route(d, i, t, cx, &origins, &signers, &mut spots) {
                    routes.push(r);
                }
            }
            if routes.is_empty() && d.error_count() == before {
                let place = root.place().clone();
                d.missing(
                    &place,
                    "routes",
                    "is empty",
                    "add at least the default route: [[routes]] path = \"*\"",
                );
            }
            routes
        }
        None if explicit => Vec::new(),
        None => match cx.healthimaging {
            Some(authorizer) => vec![healthimaging_route("*", authorizer, cx)],
            None => Vec::new(),
        },
    };
    if !explicit && !origins.iter().all(|o| o.name == HEALTHIMAGING_ORIGIN) {
        let place = root.place().clone();
        d.missing(
            &place,
            "routes",
            "[origins] are given but no [[routes]] reach them",
            "add [[routes]] with path and origin, ending with the default route path = \"*\"",
        );
    }
    let mut tests = Vec::new();
    for mut t in written_tests.unwrap_or_default().into_iter() {
        let request = t.string(d, "request", "\"GET /api/users?x=1\"");
        let origin = t.string(d, "origin", "\"api\"");
        let uri = t.string(d, "uri", "\"/users?x=1\"");
        let request = require(d, &t, "request", request, "add request = \"GET /path\"");
        let origin = require(d, &t, "origin", origin, "add origin = the origin it must reach");
        let place = t.place().clone();
        t.finish(d);
        spots.tests.push(Spot::new(&place, BTreeMap::new()));
        if let Some(r) = &request
            && let Err(e) = crate::routes::parse_request(&r.value)
        {
            d.error(r, e, "write it as \"GET /path?query\"");
            continue;
        }
        if let Some(o) = &origin
            && !origins.iter().any(|x| x.name == o.value)
        {
            d.error(o, "is not an origin of this profile", origin_choices(&origins));
            continue;
        }
        if let (Some(request), Some(origin)) = (request, origin) {
            tests.push(RouteTest {
                request: request.value,
                origin: origin.value,
                uri: uri.map(|u| u.value),
            });
        }
    }
    if d.error_count() != before {
        return None;
    }
    let table = crate::routes::Table {
        origins,
        routes,
        tests,
        signers,
        quotas: cx.quotas,
    };
    for finding in check(&table, cx.stack) {
        let severity = if finding.error {
            Severity::Error
        } else {
            Severity::Warning
        };
        let (key, span, value) = spots.place(&finding.field);
        d.push(severity, &key, &span, value, finding.message, finding.fix);
    }
    (d.error_count() == before).then_some((table, explicit))
}

impl Spots {
    fn place(&self, field: &Field) -> (String, Range<usize>, Option<String>) {
        let spot = match field {
            Field::Route(i, key) => self.routes.get(*i).map(|s| s.at(key)),
            Field::Origin(name, key) => self.origins.get(name).map(|s| s.at(key)),
            Field::Test(i) => self.tests.get(*i).map(|s| s.at("")),
            Field::Signer(name) => self.signers.get(name).map(|s| s.at("")),
            Field::Routes => None,
        };
        // The whole list: its first route, else the document's start.
        spot.or_else(|| {
            self.routes
                .first()
                .map(|s| ("routes".to_string(), s.span.clone(), None))
        })
        .unwrap_or_else(|| ("routes".to_string(), 0..0, None))
    }
}

fn healthimaging_route(path: &str, authorizer: bool, cx: &Context) -> Route {
    Route {
        path: path.into(),
        origin: HEALTHIMAGING_ORIGIN.into(),
        transform: Transform {
            strip_prefix: None,
            spa_index: None,
            healthimaging: cx.healthimaging_scope.clone().filter(|_| !authorizer),
        },
        cache: Policy::Stack,
        forward: Some(Policy::Stack),
        headers: Some(Policy::Stack),
        methods: cx.healthimaging_methods,
        authorizer,
        signed: None,
        bare_path_elsewhere: false,
    }
}

fn origin_choices(origins: &[Origin]) -> String {
    let names: Vec<&str> = origins.iter().map(|o| o.name.as_str()).collect();
    if names.is_empty() {
        "define the origin in an [origins.NAME] table".into()
    } else {
        format!("use one of: {}", names.join(", "))
    }
}

fn read_origin(
    d: &mut Diagnostics,
    name: &Located<String>,
    mut t: Table,
    cx: &Context,
    spots: &mut Spots,
) -> Option<Origin> {
    let kind = t.string(d, "kind", "\"http\"");
    let domain = t.string(d, "domain", "\"api.example.com\"");
    let protocol = t.string(d, "protocol", "\"https\"");
    let ack = t.string(
        d,
        "insecure_http_acknowledgement",
        &format!("{INSECURE_ORIGIN_ACKNOWLEDGEMENT:?}"),
    );
    let http_port = t.integer(d, "http_port", "80");
    let https_port = t.integer(d, "https_port", "443");
    let origin_path = t.string(d, "origin_path", "\"/prod\"");
    let timeout = t.integer(d, "read_timeout", "30");
    let bucket = t.string(d, "bucket", "\"my-bucket\"");
    let region = t.string(d, "region", "\"us-east-1\"");
    let region_given = region.is_some();
    let list = t.bool(d, "list");
    let public = t.bool(d, "public");
    let create = t.bool(d, "create");
    let kind = require(
        d,
        &t,
        "kind",
        kind,
        "add kind = \"http\", \"s3\" or \"s3_website\"",
    );
    let place = t.place().clone();
    t.finish(d);
    let mut keys = BTreeMap::new();
    if let Some(l) = &list {
        keys.insert(
            "list",
            Located {
                value: l.value.to_string(),
                key: l.key.clone(),
                span: l.span.clone(),
                raw: l.raw.clone(),
            },
        );
    }
    spots.origins.insert(name.value.clone(), Spot::new(&place, keys));
    let before = d.error_count();
    if name.value == HEALTHIMAGING_ORIGIN {
        d.error(
            name,
            "is the name of the HealthImaging proxy's origin",
            "choose another name; routes reach the proxy with origin = \"healthimaging\" when [healthimaging] is set",
        );
    } else if name.value.is_empty()
        || name.value.len() > 64
        || !name
            .value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        d.error(
            name,
            "is not a usable origin name: 1-64 letters, digits, `-` or `_`",
            "rename the table, e.g. [origins.api]",
        );
    }
    let kind = one_of(d, kind.as_ref()?, ORIGIN_KINDS)?;
    let only = |d: &mut Diagnostics, keys: &[(&str, bool)]| {
        for (key, present) in keys {
            if *present {
                d.missing(
                    &place,
                    key,
                    format!("is not used by a {kind} origin"),
                    format!("remove {key}"),
                );
            }
        }
    };
    let region_of = |d: &mut Diagnostics, region: &Option<Located<String>>| -> Option<String> {
        match region {
            Some(r) if !f::is_region(&r.value) => {
                d.error(
                    r,
                    "is not an AWS region",
                    f::region_fix(
                        &r.value,
                        f::AWS_REGIONS,
                        "use the bucket's region, e.g. \"us-east-1\"",
                    ),
                );
                None
            }
            Some(r) => Some(r.value.clone()),
            None => cx.region.map(str::to_string),
        }
    };
    let bucket_name = |d: &mut Diagnostics, bucket: &Option<Located<String>>| -> Option<String> {
        let b = need(d, &place, "bucket", bucket.clone(), "the bucket's name")?;
        let ok = (3..=63).contains(&b.value.len())
            && b.value
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
            && !b.value.starts_with(['-', '.'])
            && !b.value.ends_with(['-', '.']);
        if !ok {
            d.error(
                &b,
                "is not an S3 bucket name: 3-63 lowercase letters, digits, `-` and `.`",
                "use the bucket's exact name",
            );
            return None;
        }
        Some(b.value)
    };
    let origin_kind = match kind.as_str() {
        "http" => {
            only(
                d,
                &[
                    ("bucket", bucket.is_some()),
                    ("region", region.is_some()),
                    ("list", list.is_some()),
                    ("public", public.is_some()),
                    ("create", create.is_some()),
                ],
            );
            let domain = need(d, &place, "domain", domain, "the origin's DNS name")?;
            if let Err(reason) = f::check_dns_name(&domain.value, false) {
                d.error(
                    &domain,
                    reason,
                    "use the origin's DNS name, e.g. \"api.example.com\" (CloudFront refuses IP addresses)",
                );
            }
            let protocol = match &protocol {
                None => "https".to_string(),
                Some(p) => one_of(d, p, &["https", "http"])?,
            };
            if protocol == "http" {
                match &ack {
                    Some(a) if a.value == INSECURE_ORIGIN_ACKNOWLEDGEMENT => {}
                    Some(a) => d.error(
                        a,
                        "is not the exact acknowledgement text",
                        format!("write insecure_http_acknowledgement = {INSECURE_ORIGIN_ACKNOWLEDGEMENT:?}"),
                    ),
                    None => d.missing(
                        &place,
                        "insecure_http_acknowledgement",
                        "protocol = \"http\" sends requests from CloudFront to this origin unencrypted",
                        format!(
                            "write insecure_http_acknowledgement = {INSECURE_ORIGIN_ACKNOWLEDGEMENT:?}, or use protocol = \"https\""
                        ),
                    ),
                }
            } else if let Some(a) = &ack {
                d.error(a, "is only for protocol = \"http\"", "remove it");
            }
            let port = |d: &mut Diagnostics, p: &Option<Located<i64>>, default: u16| -> u16 {
                match p {
                    None => default,
                    Some(p) if (1..=65535).contains(&p.value) => p.value as u16,
                    Some(p) => {
                        d.error(p, "is not a TCP port", "use 1-65535");
                        default
                    }
                }
            };
            let http_port = port(d, &http_port, 80);
            let https_port = port(d, &https_port, 443);
            let origin_path = match &origin_path {
                None => String::new(),
                Some(p) if p.value.starts_with('/') && !p.value.ends_with('/') && p.value.len() <= 255 => {
                    p.value.clone()
                }
                Some(p) => {
                    d.error(
                        p,
                        "must start with / and not end with / (at most 255 characters)",
                        "write it as \"/prod\"",
                    );
                    String::new()
                }
            };
            let read_timeout_s = match &timeout {
                None => 30,
                Some(t) if (1..=120).contains(&t.value) => t.value as u32,
                Some(t) => {
                    d.error(
                        t,
                        "is outside CloudFront's 1-120 seconds",
                        "use 30 (the default) or up to 120",
                    );
                    30
                }
            };
            OriginKind::Http {
                domain: domain.value,
                protocol: format!("{protocol}-only"),
                http_port,
                https_port,
                origin_path,
                read_timeout_s,
            }
        }
        other => {
            only(
                d,
                &[
                    ("domain", domain.is_some()),
                    ("protocol", protocol.is_some()),
                    ("insecure_http_acknowledgement", ack.is_some()),
                    ("http_port", http_port.is_some()),
                    ("https_port", https_port.is_some()),
                    ("origin_path", origin_path.is_some()),
                    ("read_timeout", timeout.is_some()),
                ],
            );
            let bucket = bucket_name(d, &bucket)?;
            let region = region_of(d, &region);
            let region = match region {
                Some(r) => r,
                None => {
                    d.missing(
                        &place,
                        "region",
                        "the bucket's region is not known",
                        "add region = the bucket's region",
                    );
                    return None;
                }
            };
            if other == "s3"
                && let Some(p) = &public
            {
                d.error(
                    p,
                    "is only for kind = \"s3_website\": an s3 origin's bucket stays private behind Origin Access Control",
                    "remove it",
                );
            }
            if other == "s3" {
                OriginKind::S3 {
                    bucket,
                    region,
                    list: list.map(|l| l.value).unwrap_or(false),
                    create: create.map(|c| c.value).unwrap_or(false),
                }
            } else {
                for key in [&list, &create].into_iter().flatten() {
                    d.error(key, "is only for kind = \"s3\"", "remove it");
                }
                match &public {
                    // The profile says the content is public by intent.
                    Some(p) if p.value => {}
                    Some(p) => d.error(
                        p,
                        "cannot be false: a website endpoint serves the bucket to anyone, without CloudFront",
                        "use kind = \"s3\" for a private bucket, or remove public",
                    ),
                    None => d.warning(
                        name,
                        "serves a public website endpoint over HTTP: anyone can read the bucket without CloudFront, and CloudFront reaches it unencrypted",
                        "prefer kind = \"s3\" (a private bucket read through Origin Access Control) unless you need S3's website redirects; if the content is public by intent, say so with public = true",
                    ),
                }
                OriginKind::S3Website { bucket, region }
            }
        }
    };
    (d.error_count() == before).then(|| Origin {
        name: name.value.clone(),
        kind: origin_kind,
        region_given,
    })
}

/// A name a profile gives (a signer, a key id): it goes into AWS names.
fn plain_name(s: &str) -> bool {
    (1..=crate::names::MAX_PROFILE_NAME).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn read_signer(d: &mut Diagnostics, name: &Located<String>, mut t: Table, cx: &Context) -> Option<Signer> {
    let keys = t.table_array(d, "keys");
    let place = t.place().clone();
    t.finish(d);
    let before = d.error_count();
    if !plain_name(&name.value) {
        d.error(
            name,
            "is not a usable signer name: 1-32 lower-case letters, digits, `-` or `_`",
            "rename the table, e.g. [signers.storage]",
        );
    }
    let Some(tables) = keys else {
        d.missing(
            &place,
            "keys",
            "a signer needs at least one public key",
            "add keys = [{ id = \"k2026\", public_key = \"keys/storage-2026.pub.pem\" }]",
        );
        return None;
    };
    if tables.is_empty() {
        d.missing(&place, "keys", "is empty", "list at least one public key");
    }
    if tables.len() > cx.quotas.keys_per_group {
        d.missing(
            &place,
            "keys",
            format!(
                "lists {} keys; a key group holds at most {} (CloudFront's quota)",
                tables.len(),
                cx.quotas.keys_per_group
            ),
            "remove retired keys, or raise the quota with AWS and set [cloudfront.quotas] keys_per_group",
        );
    }
    let mut out = Vec::new();
    for mut k in tables {
        let id = k.string(d, "id", "\"k2026\"");
        let file = k.string(d, "public_key", "\"keys/storage-2026.pub.pem\"");
        let id = require(d, &k, "id", id, "add id = \"k2026\" (your name for the key)");
        let file = require(
            d,
            &k,
            "public_key",
            file,
            "add public_key = the PEM file of the public key, relative to the profile",
        );
        k.finish(d);
        let (Some(id), Some(file)) = (id, file) else {
            continue;
        };
        if !plain_name(&id.value) {
            d.error(
                &id,
                "is not a usable key id: 1-32 lower-case letters, digits, `-` or `_`",
                "rename it, e.g. \"k2026\"",
            );
            continue;
        }
        if out.iter().any(|x: &SignerKey| x.id == id.value) {
            d.error(&id, "is listed twice in this signer", "give each key its own id");
            continue;
        }
        let path = cx.dir.join(&file.value);
        let pem = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                d.error(
                    &file,
                    format!("cannot be read ({e}) at {}", path.display()),
                    "give the path of the public key's PEM file, relative to the profile",
                );
                continue;
            }
        };
        match crate::signing::pem::rsa_public_key_bits(&pem) {
            Ok(2048) => {}
            Ok(bits) => {
                d.error(
                    &file,
                    format!("holds a {bits}-bit RSA key; CloudFront takes 2048-bit keys only"),
                    "generate one: openssl genrsa -out private.pem 2048 && openssl rsa -pubout -in private.pem -out public.pem",
                );
                continue;
            }
            Err(reason) => {
                d.error(
                    &file,
                    reason,
                    "give the public key's PEM (`openssl rsa -pubout -in private.pem -out public.pem`)",
                );
                continue;
            }
        }
        out.push(SignerKey {
            id: id.value,
            pem,
            file: file.value,
        });
    }
    (d.error_count() == before).then(|| Signer {
        name: name.value.clone(),
        keys: out,
    })
}

fn read_route(
    d: &mut Diagnostics,
    i: usize,
    mut t: Table,
    cx: &Context,
    origins: &[Origin],
    signers: &[Signer],
    spots: &mut Spots,
) -> Option<Route> {
    let path = t.string(d, "path", "\"/api/*\"");
    let origin = t.string(d, "origin", "\"api\"");
    let strip = t.string(d, "strip_prefix", "\"/api\"");
    let spa = t.bool(d, "spa");
    let spa_index = t.string(d, "spa_index", "\"/index.html\"");
    let cache = t.string(d, "cache", "\"optimized\"");
    let forward = t.string(d, "forward", "\"all_viewer_except_host\"");
    let headers = t.string(d, "headers", "\"security\"");
    let methods = t.string(d, "methods", "\"get_head\"");
    let auth = t.bool(d, "auth");
    let signed = t.string(d, "signed", "\"storage\"");
    let bare_path = t.string(d, "bare_path", "\"elsewhere\"");
    let path = require(
        d,
        &t,
        "path",
        path,
        "add path = \"/api/*\" (or \"*\" for the default route)",
    );
    let origin = require(
        d,
        &t,
        "origin",
        origin,
        "add origin = the name of an [origins.NAME] table",
    );
    let place = t.place().clone();
    t.finish(d);
    let mut keys = BTreeMap::new();
    for (k, v) in [
        ("path", &path),
        ("origin", &origin),
        ("strip_prefix", &strip),
        ("spa_index", &spa_index),
    ] {
        if let Some(v) = v {
            keys.insert(k, v.clone());
        }
    }
    if let Some(s) = &spa {
        keys.insert(
            "spa",
            Located {
                value: s.value.to_string(),
                key: s.key.clone(),
                span: s.span.clone(),
                raw: s.raw.clone(),
            },
        );
    }
    spots.routes.push(Spot::new(&place, keys));
    let before = d.error_count();
    let (path, origin) = (path?, origin?);
    let bare_path_elsewhere = match &bare_path {
        Some(b) if b.value != "elsewhere" => {
            d.error(
                b,
                "is not a known value",
                "write bare_path = \"elsewhere\" (the bare prefix goes to whichever route matches it), or remove it",
            );
            false
        }
        Some(b) if !pattern::normal(&path.value).ends_with("/*") || pattern::is_default(&path.value) => {
            d.error(
                b,
                format!(
                    "is only for a path ending in /* (this route's is {:?})",
                    path.value
                ),
                "remove it",
            );
            false
        }
        Some(_) => true,
        None => false,
    };
    if let Err(reason) = pattern::check(&path.value) {
        d.error(
            &path,
            reason,
            "write a CloudFront path pattern such as \"/api/*\"",
        );
    }
    let Some(target) = origins.iter().find(|o| o.name == origin.value) else {
        let fix = if origin.value == HEALTHIMAGING_ORIGIN {
            "add [healthimaging] (the HealthImaging stack) to route to its proxy".to_string()
        } else {
            origin_choices(origins)
        };
        d.error(&origin, "is not an origin of this profile", fix);
        return None;
    };
    let healthimaging = matches!(target.kind, OriginKind::HealthImaging);
    let authorizer = match (&auth, cx.healthimaging) {
        (Some(a), Some(true)) => a.value,
        (Some(a), _) if a.value => {
            d.error(
                a,
                "asks for the JWT authorizer, and this profile deploys none",
                "set [auth] mode in a HealthImaging profile, or remove auth",
            );
            false
        }
        (Some(_), _) => false,
        (None, Some(authorizer)) => healthimaging && authorizer,
        (None, None) => false,
    };
    if let Some(s) = &signed {
        if !signers.iter().any(|x| x.name == s.value) {
            let names: Vec<&str> = signers.iter().map(|x| x.name.as_str()).collect();
            d.error(
                s,
                "is not a signer of this profile",
                if names.is_empty() {
                    "define it: [signers.NAME] with keys = [{ id, public_key }]".to_string()
                } else {
                    format!("use one of: {}", names.join(", "))
                },
            );
        } else if authorizer && auth.is_none() {
            d.error(
                s,
                "asks for signed URLs on a route the JWT authorizer also guards (the healthimaging default): a viewer would need both",
                "say which: auth = false for signed URLs alone, or auth = true to require both",
            );
        }
    }
    if let Some(s) = &strip {
        if s.value.is_empty() {
            d.error(s, "is empty", "remove it, or write the prefix, e.g. \"/api\"");
        } else if let Some(reason) = path_chars_error(&s.value) {
            // A value the generated function compares: CloudFront's path
            // characters only (a missing leading / is the prefix rule's).
            d.error(
                s,
                reason,
                "write the literal start of the route's path, e.g. \"/api\"",
            );
        }
    }
    let spa_index = match (&spa, &spa_index) {
        (Some(s), Some(ix)) if !s.value => {
            d.error(ix, "is only used with spa = true", "remove it, or set spa = true");
            None
        }
        (Some(s), ix) if s.value => match ix {
            // The URI the generated function sets: CloudFront's path
            // characters only, from a leading /.
            Some(ix) => match literal_path_error(&ix.value) {
                Some(reason) => {
                    d.error(ix, reason, "write it as \"/index.html\"");
                    None
                }
                None => Some(ix.value.clone()),
            },
            None => Some(DEFAULT_SPA_INDEX.to_string()),
        },
        (None, Some(ix)) => {
            d.error(ix, "is only used with spa = true", "add spa = true, or remove it");
            None
        }
        _ => None,
    };
    let transform = Transform {
        strip_prefix: strip.as_ref().map(|s| s.value.clone()),
        spa_index,
        healthimaging: cx
            .healthimaging_scope
            .clone()
            .filter(|_| healthimaging && !authorizer),
    };
    let managed = |d: &mut Diagnostics,
                   at: &Option<Located<String>>,
                   table: &[Managed],
                   none_ok: bool|
     -> Option<Option<Policy>> {
        let at = at.as_ref()?;
        if healthimaging {
            d.error(
                at,
                "the healthimaging origin uses the stack's own policies (see [cloudfront] cache)",
                "remove it from this route",
            );
            return Some(None);
        }
        if none_ok && at.value == managed::NONE {
            return Some(None);
        }
        let mut choices = managed::names(table);
        if none_ok {
            choices.push(managed::NONE);
        }
        Some(
            one_of(d, at, &choices)
                .and_then(|n| managed::find(table, &n))
                .map(Policy::Managed),
        )
    };
    let (default_cache, default_forward, default_methods) = match &target.kind {
        OriginKind::Http { .. } => ("disabled", Some("all_viewer_except_host"), Methods::All),
        OriginKind::S3 { .. } | OriginKind::S3Website { .. } => ("optimized", None, Methods::GetHead),
        OriginKind::HealthImaging => ("", None, cx.healthimaging_methods),
    };
    let cache = match managed(d, &cache, managed::CACHE, false) {
        Some(p) => p,
        None if healthimaging => Some(Policy::Stack),
        None => managed::find(managed::CACHE, default_cache).map(Policy::Managed),
    };
    let forward = match managed(d, &forward, managed::ORIGIN_REQUEST, true) {
        Some(p) => p,
        None if healthimaging => Some(Policy::Stack),
        None => default_forward
            .and_then(|n| managed::find(managed::ORIGIN_REQUEST, n))
            .map(Policy::Managed),
    };
    let headers = match managed(d, &headers, managed::RESPONSE_HEADERS, true) {
        Some(p) => p,
        None if healthimaging => Some(Policy::Stack),
        None => None,
    };
    let methods_at = methods.clone();
    let methods = match &methods {
        None => default_methods,
        Some(m) => match one_of(d, m, METHOD_SETS)?.as_str() {
            "get_head" => Methods::GetHead,
            "get_head_options" => Methods::GetHeadOptions,
            _ => Methods::All,
        },
    };
    if healthimaging
        && methods == Methods::All
        && cx.healthimaging_methods != Methods::All
        && let Some(m) = &methods_at
    {
        d.error(
            m,
            "allows POST, PUT, PATCH and DELETE to HealthImaging, and no enabled operation needs them",
            "remove methods (GET, HEAD and OPTIONS), or enable \"SearchImageSets\" in [healthimaging] operations",
        );
    }
    if matches!(target.kind, OriginKind::S3 { .. } | OriginKind::S3Website { .. }) && methods == Methods::All
    {
        d.push(
            Severity::Warning,
            &format!("routes[{i}].methods"),
            &place.span,
            None,
            "allows PUT, POST, PATCH and DELETE to a bucket: S3 refuses them through CloudFront",
            "use methods = \"get_head\" (the default for buckets)",
        );
    }
    (d.error_count() == before).then(|| Route {
        path: path.value,
        origin: origin.value,
        transform,
        cache: cache.unwrap_or(Policy::Stack),
        forward,
        headers,
        methods,
        authorizer,
        signed: signed.map(|s| s.value),
        bare_path_elsewhere,
    })
}
