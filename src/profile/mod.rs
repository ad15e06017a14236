//! The profile: what a user writes (TOML), checked and resolved into plain
//! settings before any work starts. See docs/profile.md for every key.

pub mod cache_control;
mod diagnostic;
pub mod formats;
mod sections;
mod toml_reader;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

pub use diagnostic::{Problem, Severity};

use crate::error::Error;

/// The exact words a user must write to run CloudFront -> ALB over plain HTTP
/// (the same acknowledgement the original CDK project asked for).
pub const INSECURE_HTTP_ACKNOWLEDGEMENT: &str =
    "I understand encryption in transit is disabled between CloudFront to the ALB";

#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub stack: Stack,
    /// Where the stack's regional resources live (the log bucket, and the
    /// HealthImaging proxy): `[healthimaging] region`, else `[stack] region`.
    pub region: String,
    /// The HealthImaging delivery stack; `None` for a plain reverse proxy
    /// (routes only: no VPC, ALB, ECS or Lambda@Edge).
    pub delivery: Option<Delivery>,
    pub cloudfront: CloudFront,
    pub logs: Logs,
    /// The distribution's routes. A HealthImaging profile without
    /// `[[routes]]` has one: everything to the proxy.
    pub routes: crate::routes::Table,
    /// Whether the profile wrote `[[routes]]` (else the implicit one).
    pub explicit_routes: bool,
    /// `[state] backend = "s3"`: the state object; `None`: the local lockfile.
    pub state: Option<crate::state::S3Location>,
}

/// `[healthimaging]` and the sections only its stack uses.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub healthimaging: HealthImaging,
    pub auth: Auth,
    pub alb: AlbOrigin,
    pub proxy: Proxy,
    pub network: Network,
    pub lambda_edge: LambdaEdge,
}

impl Delivery {
    /// Whether the JWT authorizer (Lambda@Edge) is deployed.
    pub fn authorizer(&self) -> bool {
        !matches!(self.auth.mode, AuthMode::None)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Stack {
    pub name: String,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HealthImaging {
    pub region: String,
    /// `[healthimaging] datastores`: the only data stores any layer serves.
    pub datastores: Vec<String>,
    /// `[healthimaging] operations`: the reads the edge and proxy pass on.
    pub operations: Vec<Operation>,
}

/// A HealthImaging read the stack can serve, by AWS's action name. Every
/// mutation is absent by design: no profile can enable one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Operation {
    GetImageFrame,
    GetImageSetMetadata,
    GetImageSet,
    ListImageSetVersions,
    SearchImageSets,
}

impl Operation {
    pub const ALL: [Operation; 5] = [
        Operation::GetImageFrame,
        Operation::GetImageSetMetadata,
        Operation::GetImageSet,
        Operation::ListImageSetVersions,
        Operation::SearchImageSets,
    ];

    /// Viewing: what `operations` is when the profile does not say.
    pub const DEFAULT: [Operation; 3] = [
        Operation::GetImageFrame,
        Operation::GetImageSetMetadata,
        Operation::GetImageSet,
    ];

    /// The action name (`medical-imaging:<name>`; the proxy's OPERATIONS).
    pub fn name(self) -> &'static str {
        match self {
            Operation::GetImageFrame => "GetImageFrame",
            Operation::GetImageSetMetadata => "GetImageSetMetadata",
            Operation::GetImageSet => "GetImageSet",
            Operation::ListImageSetVersions => "ListImageSetVersions",
            Operation::SearchImageSets => "SearchImageSets",
        }
    }

    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|o| o.name() == name)
    }
}

impl HealthImaging {
    /// Whether a viewer may POST (only search needs it: its criteria are a body).
    pub fn needs_post(&self) -> bool {
        self.operations.contains(&Operation::SearchImageSets)
    }

    /// The comma-separated names, as the proxy's OPERATIONS reads them.
    pub fn operation_names(&self) -> Vec<&'static str> {
        self.operations.iter().map(|o| o.name()).collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Auth {
    pub mode: AuthMode,
    /// Origins the edge authorizer allows in CORS answers.
    pub cors_allow_origins: Vec<String>,
    /// Accept `?token=` and move it into the Authorization header (off by default).
    pub query_token: bool,
    /// `[auth] datastore_claim`: per-viewer scoping, if configured.
    pub datastore_claim: Option<DatastoreClaim>,
}

/// A token claim naming the data stores a viewer may read: each value that
/// begins with `prefix` grants the data store whose id follows it (Cognito
/// group `ahi-datastore-<id>` with claim `cognito:groups`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatastoreClaim {
    pub claim: String,
    pub prefix: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum AuthMode {
    CognitoJwt(Cognito),
    Oidc(Oidc),
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenUse {
    Access,
    Id,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cognito {
    pub user_pool_id: String,
    /// The pool's region (the id's prefix).
    pub region: String,
    pub client_ids: Vec<String>,
    pub token_use: TokenUse,
}

#[derive(Debug, Clone, Serialize)]
pub struct Oidc {
    pub issuer: String,
    pub jwks_url: String,
    pub audiences: Vec<String>,
}

/// How CloudFront reaches the regional ALB.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "protocol", rename_all = "snake_case")]
pub enum AlbOrigin {
    /// HTTPS to `hostname` (a DNS name the operator points at the ALB).
    Https {
        hostname: String,
        certificate_arn: String,
    },
    /// HTTP to the ALB's own DNS name; acknowledged in the profile.
    Http,
}

#[derive(Debug, Clone, Serialize)]
pub struct CloudFront {
    pub aliases: Vec<String>,
    pub certificate_arn: Option<String>,
    pub price_class: String,
    /// Whose cached copies: one for every signed-in viewer, or one per token.
    pub cache: CacheScope,
    /// Request headers in the cache key beyond what `cache` puts there.
    pub cache_headers: Vec<String>,
    pub web_acl_arn: Option<String>,
    /// The `Cache-Control` viewers get on the HealthImaging behaviour, in
    /// its canonical spelling (`cache_control::canonical`); the edge's own
    /// TTLs still follow the origin's header.
    pub viewer_cache_control: String,
    /// `[cloudfront.quotas]`: AWS's current defaults unless raised.
    pub quotas: crate::routes::Quotas,
}

/// Who shares a cached response (`cloudfront.cache`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheScope {
    /// The authorizer checks the token, then removes it: every signed-in
    /// viewer shares one cached copy of a frame (the default).
    Shared,
    /// The seed's behaviour: the token is in the cache key and goes on to
    /// the proxy, which checks it again. One cached copy per token.
    PerViewer,
}

/// The query strings HealthImaging's cacheable routes take (frame id,
/// metadata version) and the listings' paging: the shared cache key's.
pub const CACHE_QUERY_STRINGS: [&str; 4] = ["imageFrameId", "version", "maxResults", "nextToken"];

impl CloudFront {
    /// The request headers of the cache key: `authorization` first in
    /// per-viewer mode, then the profile's `cache_headers`.
    pub fn cache_key_headers(&self) -> Vec<String> {
        let mut headers = match self.cache {
            CacheScope::PerViewer => vec!["authorization".to_string()],
            CacheScope::Shared => Vec::new(),
        };
        for h in &self.cache_headers {
            if !headers.contains(h) {
                headers.push(h.clone());
            }
        }
        headers
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Proxy {
    pub image: String,
    pub architecture: String,
    pub cpu: u32,
    pub memory: u32,
    pub desired_count: u32,
    pub log_level: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Network {
    /// ahi-edge creates a VPC (10.0.0.0/23, 2 public + 2 private subnets, one NAT gateway).
    Create,
    Existing {
        vpc_id: String,
        public_subnet_ids: Vec<String>,
        private_subnet_ids: Vec<String>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Logs {
    pub retention_days: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct LambdaEdge {
    pub replica_regions: Vec<String>,
}

/// The outcome of checking a profile: the resolved profile when there is no
/// error, and every problem found (errors and warnings) in file order.
#[derive(Debug)]
pub struct Report {
    pub profile: Option<Profile>,
    pub problems: Vec<Problem>,
}

/// Checks profile text. Pure: no file or network access.
pub fn check(path: &Path, text: &str) -> Report {
    sections::read(path, text)
}

/// The profile's text; a missing file, a directory or a file that is not
/// UTF-8 text is bad input with the way out.
pub fn read_text(path: &Path) -> Result<String, Error> {
    if path.is_dir() {
        return Err(Error::Refused {
            path: path.to_path_buf(),
            reason: "is a directory, not a profile".into(),
            fix: format!(
                "pass the profile file, e.g. --profile {}",
                path.join("ahi-edge.toml").display()
            ),
        });
    }
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => Error::Refused {
            path: path.to_path_buf(),
            reason: "is not UTF-8 text, so not a TOML profile".into(),
            fix: "pass the profile's .toml file with --profile".into(),
        },
        std::io::ErrorKind::NotFound => Error::Refused {
            path: path.to_path_buf(),
            reason: "profile not found".into(),
            fix: "pass --profile FILE, or create one with `ahi-edge init`".into(),
        },
        _ => Error::io(format!("reading profile {}", path.display()), e),
    })
}

/// Reads and checks a profile file. Errors when the file cannot be read or
/// has any error; warnings are returned with the profile.
pub fn load(path: &Path) -> Result<(Profile, Vec<Problem>), Error> {
    let report = check(path, &read_text(path)?);
    match report.profile {
        Some(profile) => Ok((profile, report.problems)),
        None => Err(Error::InvalidProfile {
            path: path.to_path_buf(),
            problems: report.problems,
        }),
    }
}
