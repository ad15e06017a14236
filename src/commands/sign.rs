//! `ahi-edge sign`: a signed URL, or the three signed cookies, for a route
//! that requires them. Offline: the Key-Pair-Id is the CloudFront id `up`
//! recorded for the signer's key in the lockfile; the private key is read
//! from the file given, used once, and never printed or logged.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::session;
use crate::cli::SignArgs;
use crate::error::{Error, ExitStatus};
use crate::output::Printer;
use crate::settings::Settings;
use crate::signing::{self, Grant};
use crate::stack::routes::public_key_id;

#[derive(Debug, Serialize)]
pub struct SignReport {
    pub schema: u32,
    pub signer: String,
    pub key: String,
    pub key_pair_id: String,
    /// Epoch seconds.
    pub expires: u64,
    /// The signed URL (without `--cookies`).
    pub url: Option<String>,
    /// `--cookies`: name -> value, to send as `Set-Cookie` (with your
    /// domain, path, Secure and HttpOnly).
    pub cookies: Vec<Cookie>,
}

#[derive(Debug, Serialize)]
pub struct Cookie {
    pub name: String,
    pub value: String,
}

impl fmt::Display for SignReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(url) = &self.url {
            return write!(f, "{url}");
        }
        for c in &self.cookies {
            writeln!(f, "{}={}", c.name, c.value)?;
        }
        Ok(())
    }
}

pub fn run(settings: &Settings, printer: &Printer, args: &SignArgs) -> Result<ExitStatus, Error> {
    let profile = session::profile(settings, printer)?;
    let refused = |reason: String, fix: &str| Error::Refused {
        path: settings.profile.clone(),
        reason,
        fix: fix.to_string(),
    };
    let signer = profile
        .routes
        .signers
        .iter()
        .find(|s| s.name == args.signer)
        .ok_or_else(|| {
            let names: Vec<&str> = profile.routes.signers.iter().map(|s| s.name.as_str()).collect();
            refused(
                format!("--signer {}: the profile has no such signer", args.signer),
                &format!(
                    "use one of: {}",
                    if names.is_empty() {
                        "(none: add [signers.NAME])".into()
                    } else {
                        names.join(", ")
                    }
                ),
            )
        })?;
    let key = match &args.key {
        Some(id) => signer.keys.iter().find(|k| &k.id == id).ok_or_else(|| {
            let ids: Vec<&str> = signer.keys.iter().map(|k| k.id.as_str()).collect();
            refused(
                format!("--key {id}: signer {} has no such key", signer.name),
                &format!("use one of: {}", ids.join(", ")),
            )
        })?,
        // The newest key (listed last): what signs after a rotation's first `up`.
        None => signer
            .keys
            .last()
            .ok_or_else(|| refused(format!("signer {} has no keys", signer.name), "add a key"))?,
    };
    let lock = session::snapshot(settings, printer, Some(&profile))?;
    let state = session::location(settings, Some(&profile))?.name();
    let key_pair_id = lock
        .as_ref()
        .and_then(|l| l.resources.get(&public_key_id(&signer.name, key)))
        .and_then(|e| e.physical_id.clone())
        .ok_or_else(|| {
            refused(
                format!(
                    "key {} of signer {} is not deployed (the lockfile {} records no CloudFront id for it)",
                    key.id, signer.name, state
                ),
                "run `ahi-edge up` first: CloudFront gives the key its Key-Pair-Id",
            )
        })?;
    let private = std::fs::read_to_string(&args.private_key_file).map_err(|e| Error::Refused {
        path: args.private_key_file.clone(),
        reason: format!("cannot read the private key ({e})"),
        fix: "pass --private-key-file with the PEM private key of the signer's key".into(),
    })?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    if !args.policy && args.url.contains('*') {
        return Err(refused(
            format!("{}: a `*` needs a custom policy", args.url),
            "add --policy (a canned policy covers exactly one URL)",
        ));
    }
    let grant = Grant {
        resource: args.url.clone(),
        expires: (now + args.expires).as_secs(),
        starts: args.not_before.map(|d| (now + d).as_secs()),
        ip_range: args.ip_range.clone(),
        custom: args.policy,
    };
    let signed = signing::sign(&grant, &private, &key_pair_id).map_err(|reason| Error::Refused {
        path: args.private_key_file.clone(),
        reason: format!("the private key {reason}"),
        fix: "pass the PEM private key (`BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY`) whose public half is in the profile".into(),
    })?;
    let base = if args.url.contains('*') {
        None
    } else {
        Some(args.url.as_str())
    };
    printer.result(&SignReport {
        schema: 1,
        signer: signer.name.clone(),
        key: key.id.clone(),
        key_pair_id,
        expires: grant.expires,
        url: match (args.cookies, base) {
            (false, Some(url)) => Some(signed.url(url)),
            _ => None,
        },
        cookies: match args.cookies || base.is_none() {
            true => signed
                .cookies()
                .into_iter()
                .map(|(name, value)| Cookie { name, value })
                .collect(),
            false => Vec::new(),
        },
    })?;
    Ok(ExitStatus::Success)
}
