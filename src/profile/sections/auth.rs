//! `[auth]`, `[auth.cognito]` and `[auth.oidc]`.

use std::collections::BTreeSet;

use super::super::diagnostic::Diagnostics;
use super::super::formats::{self as f};
use super::super::toml_reader::Table;
use super::super::*;
use super::*;

pub(super) fn read_auth(d: &mut Diagnostics, root: &mut Table) -> Option<Auth> {
    let mut t = required_table(d, root, "auth", "[auth] with mode = \"cognito_jwt\"")?;
    let mode = t.string(d, "mode", "\"cognito_jwt\"");
    let cors = t.string_list(d, "cors_allow_origins", "[\"https://viewer.example.com\"]");
    let query_token = t.bool(d, "query_token");
    let public = t.bool(d, "public");
    let claim = t.string(d, "datastore_claim", "\"cognito:groups\"");
    let claim_prefix = t.string(d, "datastore_claim_prefix", "\"ahi-datastore-\"");
    let cognito = t.table(d, "cognito");
    let oidc = t.table(d, "oidc");
    let mode = require(
        d,
        &t,
        "mode",
        mode,
        "add mode = \"cognito_jwt\" (or \"oidc\", \"none\")",
    );
    let place = t.place().clone();
    t.finish(d);

    let mode_name = one_of(d, mode.as_ref()?, AUTH_MODES)?;
    let has = (cognito.is_some(), oidc.is_some());
    let cognito = cognito.map(|c| read_cognito(d, c));
    let oidc = oidc.map(|o| read_oidc(d, o));
    let resolved = match mode_name.as_str() {
        "cognito_jwt" => match cognito {
            Some(c) => c.map(AuthMode::CognitoJwt),
            None => {
                d.missing(
                    &place,
                    "cognito",
                    "auth.mode = \"cognito_jwt\" needs the user pool",
                    "add [auth.cognito] with user_pool_id and client_ids",
                );
                None
            }
        },
        "oidc" => match oidc {
            Some(o) => o.map(AuthMode::Oidc),
            None => {
                d.missing(
                    &place,
                    "oidc",
                    "auth.mode = \"oidc\" needs the issuer",
                    "add [auth.oidc] with issuer and audiences",
                );
                None
            }
        },
        _ => Some(AuthMode::None),
    };
    // A settings table that the mode ignores is a likely mistake in a security setting.
    if let Some(mode) = &mode {
        for (present, name) in [(has.0, "cognito"), (has.1, "oidc")] {
            let expected = if name == "cognito" { "cognito_jwt" } else { "oidc" };
            if present && mode_name != expected {
                d.error(
                    mode,
                    format!("does not use [auth.{name}], which is also set"),
                    format!("set mode = \"{expected}\", or remove [auth.{name}]"),
                );
            }
        }
    }
    let no_authorizer = matches!(resolved, Some(AuthMode::None));
    match (&public, &mode) {
        // The profile says the data is public by intent.
        (Some(p), _) if p.value && no_authorizer => {}
        (Some(p), _) if p.value => d.error(
            p,
            "says the data is public, but an authorizer checks every viewer",
            "remove public, or set mode = \"none\"",
        ),
        (Some(p), _) if no_authorizer => d.error(
            p,
            "cannot be false with mode = \"none\": anyone with the URL can read the data",
            "set mode = \"cognito_jwt\" or \"oidc\", or public = true",
        ),
        (_, Some(mode)) if no_authorizer => d.warning(
            mode,
            "anyone who has the CloudFront URL can read image frames and metadata",
            "use \"cognito_jwt\" or \"oidc\" unless the data is public; if it is, say so with public = true",
        ),
        _ => {}
    }

    let mut origins = vec!["*".to_string()];
    if let Some(cors) = cors {
        if no_authorizer {
            d.warning(
                &cors,
                "is ignored: with mode = \"none\" no authorizer answers CORS",
                "remove it",
            );
        }
        if cors.value.is_empty() {
            d.error(
                &cors,
                "is empty, so every browser preflight would fail",
                "list the allowed origins, or [\"*\"]",
            );
        }
        for origin in &cors.value {
            let ok = origin.value == "*"
                || ((origin.value.starts_with("https://") || origin.value.starts_with("http://"))
                    && !origin.value.trim_end_matches('/').contains(['?', '#', ' '])
                    && origin.value.matches('/').count() == 2);
            if !ok {
                d.error(
                    origin,
                    "is not a browser origin",
                    "write \"*\" or scheme://host[:port], e.g. \"https://viewer.example.com\"",
                );
            }
        }
        origins = cors.value.into_iter().map(|o| o.value).collect();
    }
    let query_token = match query_token {
        Some(q) if q.value && no_authorizer => {
            d.error(
                &q,
                "needs an authorizer, but auth.mode = \"none\"",
                "remove query_token",
            );
            false
        }
        Some(q) => {
            if q.value {
                d.warning(
                    &q,
                    "tokens in URLs can end up in browser history and in logs before the edge strips them",
                    "send the token in the Authorization header instead, if your viewer can",
                );
            }
            q.value
        }
        None => false,
    };
    let datastore_claim = read_datastore_claim(d, claim, claim_prefix, no_authorizer);
    Some(Auth {
        mode: resolved?,
        cors_allow_origins: origins,
        query_token,
        datastore_claim: datastore_claim?,
    })
}

/// `datastore_claim` and `datastore_claim_prefix`: `Some(None)` when not
/// configured, `None` after an error. The claim is read from a verified
/// token, so it needs an authorizer.
fn read_datastore_claim(
    d: &mut Diagnostics,
    claim: Option<Located<String>>,
    prefix: Option<Located<String>>,
    no_authorizer: bool,
) -> Option<Option<DatastoreClaim>> {
    let printable = |s: &str| s.bytes().all(|b| b.is_ascii_graphic());
    let Some(claim) = claim else {
        if let Some(p) = &prefix {
            d.error(
                p,
                "has no datastore_claim to apply to",
                "add datastore_claim = \"cognito:groups\", or remove datastore_claim_prefix",
            );
            return None;
        }
        return Some(None);
    };
    let mut ok = true;
    if no_authorizer {
        d.error(
            &claim,
            "needs an authorizer to read a verified token, but auth.mode = \"none\"",
            "set mode = \"cognito_jwt\" or \"oidc\", or remove datastore_claim",
        );
        ok = false;
    }
    if claim.value.is_empty() || claim.value.len() > 128 || !printable(&claim.value) {
        d.error(
            &claim,
            "is not a claim name (1 to 128 printable characters, no spaces)",
            "name the token claim that lists the viewer's data stores, e.g. \"cognito:groups\"",
        );
        ok = false;
    }
    if let Some(p) = &prefix
        && (p.value.len() > 64 || !printable(&p.value))
    {
        d.error(
            p,
            "is not a claim value prefix (at most 64 printable characters, no spaces)",
            "use a prefix such as \"ahi-datastore-\", or remove it (values are then the ids themselves)",
        );
        ok = false;
    }
    ok.then(|| {
        Some(DatastoreClaim {
            claim: claim.value,
            prefix: prefix.map(|p| p.value).unwrap_or_default(),
        })
    })
}

pub(super) fn read_cognito(d: &mut Diagnostics, mut t: Table) -> Option<Cognito> {
    let pool = t.string(d, "user_pool_id", "\"us-east-1_Ab12Cd34E\"");
    let region = t.string(d, "region", "\"us-east-1\"");
    let clients = t.string_list(d, "client_ids", "[\"4fr9qmc1oba52s6hrfl5hntu2u\"]");
    let token_use = t.string(d, "token_use", "\"access\"");
    let pool = require(
        d,
        &t,
        "user_pool_id",
        pool,
        "add user_pool_id = \"<region>_<id>\" from the Cognito console",
    );
    let clients = require(
        d,
        &t,
        "client_ids",
        clients,
        "add client_ids = [\"<app client id>\"]: tokens from other app clients are refused",
    );
    t.finish(d);

    let pool_region = pool
        .as_ref()
        .and_then(|pool| match f::check_user_pool_id(&pool.value) {
            Ok(r) => Some(r.to_string()),
            Err(reason) => {
                d.error(
                    pool,
                    reason,
                    "copy the pool id from the Cognito console, e.g. \"us-east-1_Ab12Cd34E\"",
                );
                None
            }
        });
    if let (Some(region), Some(prefix)) = (&region, &pool_region)
        && &region.value != prefix
    {
        d.error(
            region,
            format!("does not match the user pool id, which is in {prefix}"),
            format!("set region = \"{prefix}\" or remove it (it defaults to the pool id's prefix)"),
        );
    }
    let clients = clients?;
    if clients.value.is_empty() {
        d.error(&clients, "is empty", "list at least one app client id");
    }
    let mut seen = BTreeSet::new();
    for c in &clients.value {
        if let Err(reason) = f::check_client_id(&c.value) {
            d.error(c, reason, "copy the app client id from the Cognito console");
        } else if !seen.insert(c.value.as_str()) {
            d.error(c, "is listed twice", "remove the duplicate");
        }
    }
    let token_use = match token_use {
        None => Some(TokenUse::Access),
        Some(t) => {
            one_of(d, &t, &["access", "id"]).map(|v| if v == "id" { TokenUse::Id } else { TokenUse::Access })
        }
    };
    Some(Cognito {
        user_pool_id: pool?.value,
        region: pool_region?,
        client_ids: clients.value.into_iter().map(|c| c.value).collect(),
        token_use: token_use?,
    })
}

pub(super) fn read_oidc(d: &mut Diagnostics, mut t: Table) -> Option<Oidc> {
    let issuer = t.string(d, "issuer", "\"https://login.example.com\"");
    let jwks = t.string(
        d,
        "jwks_url",
        "\"https://login.example.com/.well-known/jwks.json\"",
    );
    let audiences = t.string_list(d, "audiences", "[\"ahi-viewer\"]");
    let issuer = require(
        d,
        &t,
        "issuer",
        issuer,
        "add issuer = \"https://...\" (the `iss` of your tokens)",
    );
    let audiences = require(
        d,
        &t,
        "audiences",
        audiences,
        "add audiences = [\"...\"] (accepted `aud` values)",
    );
    t.finish(d);

    let mut ok = true;
    for url in [&issuer, &jwks].into_iter().flatten() {
        if let Err(reason) = f::check_https_url(&url.value) {
            d.error(url, reason, "use the https URL your identity provider publishes");
            ok = false;
        }
    }
    if let Some(a) = &audiences
        && (a.value.is_empty() || a.value.iter().any(|x| x.value.is_empty()))
    {
        d.error(
            a,
            "must list at least one non-empty audience",
            "list the `aud` values your tokens carry",
        );
        ok = false;
    }
    let issuer = issuer?.value;
    let jwks_url = jwks.map_or_else(
        || format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')),
        |j| j.value,
    );
    ok.then(|| Oidc {
        issuer,
        jwks_url,
        audiences: audiences
            .map(|a| a.value.into_iter().map(|x| x.value).collect())
            .unwrap_or_default(),
    })
}
