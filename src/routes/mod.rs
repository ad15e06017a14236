//! Routes: one distribution, many origins. The profile's `[origins.*]` and
//! ordered `[[routes]]` resolve into a [`Table`]; [`Table::evaluate`] says,
//! offline, which route and origin a request reaches and the URI the origin
//! receives, by CloudFront's rules (first match wins, the default route
//! `*` last). This evaluator is the truth `validate`, `plan` and
//! `routes test` print; the generated functions are tested against it.

pub mod check;
pub mod managed;
pub mod pattern;
pub mod scope_function;
pub mod transform;

use serde::Serialize;

pub use managed::Managed;
pub use transform::Transform;

/// The origin name routes use for the HealthImaging stack's regional proxy.
pub const HEALTHIMAGING_ORIGIN: &str = "healthimaging";

/// The query strings the HealthImaging routes forward (the shared cache key's).
pub use crate::profile::CACHE_QUERY_STRINGS;

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub origins: Vec<Origin>,
    /// In evaluation order; the last is the default route (`*`).
    pub routes: Vec<Route>,
    pub tests: Vec<RouteTest>,
    /// `[signers.*]`: the public keys whose private halves sign URLs and
    /// cookies for the routes that name them (`signed`).
    pub signers: Vec<Signer>,
    pub quotas: Quotas,
}

/// A named set of public keys, trusted as one key group by its routes.
#[derive(Debug, Clone, Serialize)]
pub struct Signer {
    pub name: String,
    pub keys: Vec<SignerKey>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignerKey {
    /// The profile's name for the key (`k2026`), not CloudFront's id.
    pub id: String,
    /// The PEM text (a public key: nothing secret).
    #[serde(skip)]
    pub pem: String,
    /// The file it was read from, as written in the profile.
    pub file: String,
}

impl SignerKey {
    /// Sixteen hex digits of the PEM's SHA-256: a changed PEM is a new key.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        Sha256::digest(self.pem.trim())
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// CloudFront's quotas that constrain routes (settings: AWS raises them
/// on request; `[cloudfront.quotas]`).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Quotas {
    /// Cache behaviours per distribution (the default one not counted).
    pub behaviors: usize,
    pub origins: usize,
    /// Bytes of one CloudFront Function's code.
    pub function_size: usize,
    /// Public keys in one key group.
    pub keys_per_group: usize,
    /// Key groups in the account.
    pub key_groups: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            behaviors: 75,
            origins: 100,
            function_size: 10_240,
            keys_per_group: 5,
            key_groups: 10,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Origin {
    pub name: String,
    pub kind: OriginKind,
    /// A bucket origin's region came from its own `region` key (else the
    /// stack's, until `stack::bucket_region` finds where the bucket is).
    #[serde(skip)]
    pub region_given: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OriginKind {
    /// Any host by name: an ALB, API Gateway, a server.
    Http {
        domain: String,
        /// `https-only` or `http-only` (acknowledged in the profile).
        protocol: String,
        http_port: u16,
        https_port: u16,
        /// Prepended to every URI the origin receives (`/prod`).
        origin_path: String,
        read_timeout_s: u32,
    },
    /// A private bucket, read by CloudFront through Origin Access Control.
    S3 {
        bucket: String,
        region: String,
        /// Also grant `s3:ListBucket`: a missing key is 404, not 403.
        list: bool,
        /// The stack creates the bucket and owns it (`down` keeps it unless
        /// `--purge-buckets`).
        create: bool,
    },
    /// A bucket's public website endpoint (HTTP only).
    S3Website { bucket: String, region: String },
    /// The HealthImaging stack's regional proxy (ALB -> ECS).
    HealthImaging,
}

impl OriginKind {
    pub fn word(&self) -> &'static str {
        match self {
            OriginKind::Http { .. } => "http",
            OriginKind::S3 { .. } => "s3",
            OriginKind::S3Website { .. } => "s3_website",
            OriginKind::HealthImaging => "healthimaging",
        }
    }

    /// The origin's DNS name (the proxy's is known after `up`).
    pub fn domain(&self) -> String {
        match self {
            OriginKind::Http { domain, .. } => domain.clone(),
            OriginKind::S3 { bucket, region, .. } => format!("{bucket}.s3.{region}.amazonaws.com"),
            OriginKind::S3Website { bucket, region } => website_domain(bucket, region),
            OriginKind::HealthImaging => "the stack's load balancer".into(),
        }
    }

    pub fn origin_path(&self) -> &str {
        match self {
            OriginKind::Http { origin_path, .. } => origin_path,
            _ => "",
        }
    }
}

/// S3 website endpoints: the older regions spell `s3-website-<region>`,
/// the rest `s3-website.<region>`.
pub fn website_domain(bucket: &str, region: &str) -> String {
    const DASHED: [&str; 9] = [
        "us-east-1",
        "us-west-1",
        "us-west-2",
        "eu-west-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-northeast-1",
        "sa-east-1",
        "us-gov-west-1",
    ];
    let sep = if DASHED.contains(&region) { '-' } else { '.' };
    format!("{bucket}.s3-website{sep}{region}.amazonaws.com")
}

/// A cache behaviour's policy: one of AWS's managed ones, or the stack's
/// own (the HealthImaging routes').
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Policy {
    Managed(#[serde(serialize_with = "managed_name")] Managed),
    #[serde(serialize_with = "stack_name")]
    Stack,
}

fn managed_name<S: serde::Serializer>(m: &Managed, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.aws_name)
}

fn stack_name<S: serde::Serializer>(s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("the stack's own")
}

impl Policy {
    pub fn label(&self) -> String {
        match self {
            Policy::Managed(m) => m.aws_name.to_string(),
            Policy::Stack => "the stack's own".into(),
        }
    }
}

/// The methods a route allows (CloudFront's three sets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Methods {
    GetHead,
    GetHeadOptions,
    All,
}

impl Methods {
    pub fn list(self) -> &'static [&'static str] {
        match self {
            Methods::GetHead => &["GET", "HEAD"],
            Methods::GetHeadOptions => &["GET", "HEAD", "OPTIONS"],
            Methods::All => &["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
        }
    }

    /// What CloudFront caches: GET and HEAD, and OPTIONS (preflight
    /// answers) where the route allows only reads.
    pub fn cached(self) -> &'static [&'static str] {
        match self {
            Methods::GetHeadOptions => &["GET", "HEAD", "OPTIONS"],
            _ => &["GET", "HEAD"],
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Route {
    pub path: String,
    pub origin: String,
    #[serde(skip_serializing_if = "Transform::is_identity")]
    pub transform: Transform,
    pub cache: Policy,
    pub forward: Option<Policy>,
    pub headers: Option<Policy>,
    pub methods: Methods,
    /// The JWT authorizer (Lambda@Edge, viewer-request) runs on this route.
    pub authorizer: bool,
    /// The signer whose keys' signed URLs or cookies this route requires.
    pub signed: Option<String>,
    /// `bare_path = "elsewhere"`: the profile says the bare prefix (`/api`
    /// of `/api/*`) is meant for whichever route matches it, so validate
    /// does not warn that it goes there.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bare_path_elsewhere: bool,
}

/// `[[route_tests]]`: a request and where it must go.
#[derive(Debug, Clone, Serialize)]
pub struct RouteTest {
    pub request: String,
    pub origin: String,
    pub uri: Option<String>,
}

/// Where one request goes, as CloudFront would send it.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub request: String,
    pub method: String,
    /// 1-based, in evaluation order.
    pub route: usize,
    pub pattern: String,
    pub origin: String,
    pub origin_kind: &'static str,
    pub origin_domain: String,
    /// Path (with the origin path) and the query string the origin receives.
    pub origin_uri: String,
    pub cache: String,
    pub forward: Option<String>,
    pub headers: Option<String>,
    /// The functions that run, by event: `viewer-request <name> (what)`.
    pub functions: Vec<String>,
    /// Whether CloudFront passes the method on (else it answers 403).
    pub method_allowed: bool,
    pub notes: Vec<String>,
}

/// A request line as a user writes it: `GET /api/users?x=1` or `/x`.
pub fn parse_request(text: &str) -> Result<(String, String, String), String> {
    let text = text.trim();
    let (method, target) = match text.split_once(' ') {
        Some((m, t)) => (m.trim().to_ascii_uppercase(), t.trim()),
        None => ("GET".to_string(), text),
    };
    const METHODS: [&str; 7] = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"];
    if !METHODS.contains(&method.as_str()) {
        return Err(format!(
            "{method:?} is not a method CloudFront passes on; use one of {}",
            METHODS.join(", ")
        ));
    }
    if !target.starts_with('/') {
        return Err(format!(
            "{target:?} is not a path; write it as \"GET /path?query\" or \"/path\""
        ));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Ok((method, path.to_string(), query.to_string()))
}

/// The name of one of the stack's route functions (`key`: [`Table::functions`]).
pub fn function_name(stack: &str, key: &str) -> String {
    format!("{stack}-route-{key}")
}

/// Eight hex digits of SHA-256.
fn short_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text)
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Table {
    pub fn origin(&self, name: &str) -> Option<&Origin> {
        self.origins.iter().find(|o| o.name == name)
    }

    /// The index of the first route `path` matches (the default route
    /// matches everything).
    pub fn route_for(&self, path: &str) -> usize {
        self.routes
            .iter()
            .position(|r| pattern::matches(&r.path, path))
            .unwrap_or(self.routes.len().saturating_sub(1))
    }

    /// The distinct transforms in route order, one function each, keyed
    /// by the path of the first route that uses it: a route whose rewrite
    /// changes keeps its function (a publish, no distribution deploy).
    pub fn functions(&self) -> Vec<(String, Transform)> {
        let mut out: Vec<(String, Transform)> = Vec::new();
        for r in &self.routes {
            if !r.transform.is_identity() && !out.iter().any(|(_, t)| *t == r.transform) {
                out.push((short_hash(&pattern::normal(&r.path)), r.transform.clone()));
            }
        }
        out
    }

    /// The key of the function a route's transform runs as.
    pub fn function_key(&self, transform: &Transform) -> Option<String> {
        self.functions()
            .into_iter()
            .find(|(_, t)| t == transform)
            .map(|(k, _)| k)
    }

    /// Where `request` goes (`GET /api/users?x=1`).
    pub fn evaluate(&self, stack: &str, request: &str) -> Result<Decision, String> {
        let (method, path, query) = parse_request(request)?;
        let index = self.route_for(&path);
        let route = self
            .routes
            .get(index)
            .ok_or_else(|| "the profile has no routes".to_string())?;
        let origin = self
            .origin(&route.origin)
            .ok_or_else(|| format!("route {} names no known origin", index + 1))?;
        let uri = route.transform.apply(&method, &path);
        let kept = forwarded_query(route, &query);
        let origin_uri = format!(
            "{}{uri}{}",
            origin.kind.origin_path(),
            if kept.is_empty() {
                String::new()
            } else {
                format!("?{kept}")
            }
        );
        let mut functions = Vec::new();
        if route.authorizer {
            functions.push("viewer-request: the JWT authorizer (Lambda@Edge)".to_string());
        }
        if let Some(key) = self.function_key(&route.transform) {
            functions.push(format!(
                "viewer-request: {} ({})",
                function_name(stack, &key),
                route.transform.describe()
            ));
        }
        let method_allowed = route.methods.list().contains(&method.as_str());
        let mut notes = Vec::new();
        if !method_allowed {
            notes.push(format!(
                "CloudFront answers 403 to {method}: the route allows {}",
                route.methods.list().join(", ")
            ));
        }
        if route.authorizer {
            notes.push("without a valid token the authorizer answers 401".into());
        }
        if let Some(signer) = &route.signed {
            notes.push(format!(
                "needs a URL or cookies signed with a key of signer {signer} (`ahi-edge sign`); otherwise CloudFront answers 403"
            ));
        }
        match &origin.kind {
            OriginKind::S3 { list: false, .. } => notes.push(
                "a missing key answers 403 AccessDenied, not 404: the grant has no s3:ListBucket".into(),
            ),
            OriginKind::S3 { list: true, .. } => {
                notes.push("a missing key answers 404 NoSuchKey (s3:ListBucket is granted)".into())
            }
            OriginKind::S3Website { .. } => notes.push(
                "a public website endpoint over HTTP: anyone can bypass CloudFront; an `s3` origin keeps the bucket private".into(),
            ),
            _ => {}
        }
        if uri != path {
            notes.push(format!("the origin sees {uri} for {path}"));
        }
        Ok(Decision {
            request: request.trim().to_string(),
            method,
            route: index + 1,
            pattern: route.path.clone(),
            origin: origin.name.clone(),
            origin_kind: origin.kind.word(),
            origin_domain: origin.kind.domain(),
            origin_uri,
            cache: route.cache.label(),
            forward: route.forward.map(|p| p.label()),
            headers: route.headers.map(|p| p.label()),
            functions,
            method_allowed,
            notes,
        })
    }

    /// Runs `[[route_tests]]`: each failure as (test index, message).
    pub fn run_tests(&self, stack: &str) -> Vec<(usize, String)> {
        let mut failures = Vec::new();
        for (i, t) in self.tests.iter().enumerate() {
            match self.evaluate(stack, &t.request) {
                Err(e) => failures.push((i, e)),
                Ok(d) => {
                    if d.origin != t.origin {
                        failures.push((
                            i,
                            format!(
                                "{} reaches origin {} (route {}, {}), not {}",
                                t.request, d.origin, d.route, d.pattern, t.origin
                            ),
                        ));
                    } else if let Some(uri) = &t.uri
                        && &d.origin_uri != uri
                    {
                        failures.push((
                            i,
                            format!(
                                "{} reaches {} as {}, not {uri}",
                                t.request, d.origin, d.origin_uri
                            ),
                        ));
                    }
                }
            }
        }
        failures
    }
}

/// The query string the origin receives: what the cache policy and the
/// origin request policy forward.
fn forwarded_query(route: &Route, query: &str) -> String {
    if query.is_empty() {
        return String::new();
    }
    let all = [Some(route.cache), route.forward]
        .into_iter()
        .flatten()
        .any(|p| matches!(p, Policy::Managed(m) if m.forwards_query));
    if all {
        return query.to_string();
    }
    if route.cache == Policy::Stack {
        return query
            .split('&')
            .filter(|pair| {
                let name = pair.split('=').next().unwrap_or_default();
                CACHE_QUERY_STRINGS.contains(&name)
            })
            .collect::<Vec<_>>()
            .join("&");
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(extra: &str) -> Table {
        let text = format!("{}{extra}", include_str!("../../profiles/reverse-proxy.toml"));
        let report = crate::profile::check(std::path::Path::new("p.toml"), &text);
        report
            .profile
            .unwrap_or_else(|| panic!("{:#?}", report.problems))
            .routes
    }

    #[test]
    fn each_request_reaches_its_route_origin_and_uri() {
        let t = table("");
        let cases: &[(&str, usize, &str, &str)] = &[
            ("GET /api/users?x=1", 1, "api", "/users?x=1"),
            ("/api/", 1, "api", "/"),
            ("DELETE /api/users/7", 1, "api", "/users/7"),
            ("/stac/search?bbox=1,2", 2, "stac", "/search?bbox=1,2"),
            // Buckets: the managed cache policy forwards no query string.
            ("/storage/a/b.pdf?download=1", 3, "storage", "/a/b.pdf"),
            ("/thumbnails/x.png", 4, "thumbnails", "/thumbnails/x.png"),
            ("/THUMBNAILS/x.png", 5, "app", "/THUMBNAILS/x.png"),
            ("/dashboard/42", 5, "app", "/index.html"),
            ("/api", 5, "app", "/index.html"),
            ("/", 5, "app", "/index.html"),
            ("/favicon.ico", 5, "app", "/favicon.ico"),
            ("POST /dashboard", 5, "app", "/dashboard"),
        ];
        for (request, route, origin, uri) in cases {
            let d = t.evaluate("s", request).unwrap();
            assert_eq!(
                (d.route, d.origin.as_str(), d.origin_uri.as_str()),
                (*route, *origin, *uri),
                "{request}"
            );
        }
        assert!(!t.evaluate("s", "POST /storage/x").unwrap().method_allowed);
        assert!(t.evaluate("s", "FETCH /x").is_err());
        assert!(t.evaluate("s", "x").is_err());
    }

    #[test]
    fn origin_path_and_a_healthimaging_routes_query_whitelist() {
        let t = table("").clone();
        let mut with_path = t.clone();
        if let OriginKind::Http { origin_path, .. } = &mut with_path.origins[0].kind {
            *origin_path = "/prod".into();
        }
        assert_eq!(
            with_path.evaluate("s", "/api/users").unwrap().origin_uri,
            "/prod/users"
        );
        let hi = crate::profile::check(
            std::path::Path::new("p.toml"),
            include_str!("../../profiles/ahi-delivery.toml"),
        )
        .profile
        .unwrap()
        .routes;
        let d = hi
            .evaluate(
                "s",
                "/datastore/d/imageSet/i/getImageFrame?imageFrameId=f&token=secret&x=1",
            )
            .unwrap();
        assert_eq!(
            d.origin_uri,
            "/datastore/d/imageSet/i/getImageFrame?imageFrameId=f"
        );
        assert!(d.functions[0].contains("JWT authorizer"));
    }

    #[test]
    fn one_function_per_distinct_rewrite_named_by_its_first_route() {
        let t = table("");
        let functions = t.functions();
        assert_eq!(functions.len(), 4, "{functions:?}");
        let keys: Vec<&str> = functions.iter().map(|(k, _)| k.as_str()).collect();
        let mut unique = keys.clone();
        unique.dedup();
        assert_eq!(keys, unique);
        // Changing a rewrite keeps its function's name (a publish, no deploy).
        let mut changed = t.clone();
        changed.routes[1].transform.strip_prefix = Some("/stac/".into());
        assert_eq!(changed.functions()[1].0, functions[1].0);
    }
}
