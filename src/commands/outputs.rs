//! `ahi-edge outputs`: what scripts need from the deployed stack, from the
//! lockfile alone (no AWS call): the URL, the distribution id, the ALB DNS
//! name, and the DNS records the operator must create.

use crate::engine::kind::Output;
use std::fmt;

use serde::Serialize;

use serde_json::Value;

use super::session;
use crate::error::{Error, ExitStatus};
use crate::lockfile::Lockfile;
use crate::output::Printer;
use crate::settings::Settings;
use crate::stack::output;

#[derive(Debug, Serialize)]
pub struct Outputs {
    pub stack: String,
    pub url: Option<String>,
    pub distribution_id: Option<String>,
    pub distribution_domain: Option<String>,
    pub alb_dns_name: Option<String>,
    pub dns_records: Vec<DnsRecord>,
    /// Each signer's deployed keys and the Key-Pair-Id applications sign with.
    pub signers: Vec<SignerKeys>,
}

#[derive(Debug, Serialize)]
pub struct SignerKeys {
    pub signer: String,
    pub key: String,
    pub key_pair_id: String,
}

/// The signers' keys the lockfile records (`public_key/<signer>/<key>-<digest>`).
fn signer_keys(lock: &Lockfile) -> Vec<SignerKeys> {
    lock.resources
        .iter()
        .filter(|(_, e)| e.kind == "cloudfront-public-key")
        .filter_map(|(id, e)| {
            let mut parts = id.splitn(3, '/').skip(1);
            let (signer, key) = (parts.next()?, parts.next()?);
            Some(SignerKeys {
                signer: signer.to_string(),
                key: key.rsplit_once('-').map_or(key, |(k, _)| k).to_string(),
                key_pair_id: e.physical_id.clone()?,
            })
        })
        .collect()
}

/// A record the operator creates in their DNS zone.
#[derive(Debug, Serialize)]
pub struct DnsRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    pub why: String,
}

impl fmt::Display for Outputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not deployed)".into());
        writeln!(f, "url: {}", show(&self.url))?;
        writeln!(f, "distribution_id: {}", show(&self.distribution_id))?;
        writeln!(f, "alb_dns_name: {}", show(&self.alb_dns_name))?;
        for r in &self.dns_records {
            writeln!(f, "dns: {} {} {}  ({})", r.name, r.kind, r.value, r.why)?;
        }
        for k in &self.signers {
            writeln!(
                f,
                "signer {} key {}: Key-Pair-Id {}",
                k.signer, k.key, k.key_pair_id
            )?;
        }
        Ok(())
    }
}

pub fn run(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Error> {
    // From the lockfile alone: the recorded specs say which aliases and which
    // ALB hostname the stack was deployed with.
    let profile = session::profile_if_present(settings, printer)?;
    let lock = session::snapshot(settings, printer, profile.as_ref())?.unwrap_or_else(|| Lockfile::new(""));
    let domain = output(&lock, "distribution", crate::kinds::distribution::DOMAIN_NAME).ok();
    let alb = output(&lock, "load_balancer", crate::kinds::load_balancer::DNS_NAME).ok();
    let spec = lock
        .resources
        .get("distribution")
        .map(|e| e.spec_value())
        .unwrap_or(Value::Null);
    let aliases: Vec<String> = spec
        .get("aliases")
        .and_then(|a| serde_json::from_value(a.clone()).ok())
        .unwrap_or_default();
    // The HealthImaging proxy's origin, when CloudFront reaches it over HTTPS.
    let https_origin = spec
        .get("origins")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|o| {
            o.get("id").and_then(Value::as_str) == Some(crate::resources::distribution::ORIGIN_ID)
                && o.get("protocol").and_then(Value::as_str) == Some("https-only")
        })
        .and_then(|o| o.get("domain").and_then(Value::as_str).map(str::to_string));
    let mut dns_records = Vec::new();
    if let (Some(hostname), Some(alb)) = (&https_origin, &alb) {
        dns_records.push(DnsRecord {
            name: hostname.clone(),
            kind: "CNAME".into(),
            value: alb.clone(),
            why: "CloudFront reaches the ALB by this name over HTTPS".into(),
        });
    }
    if let Some(d) = &domain {
        for alias in &aliases {
            dns_records.push(DnsRecord {
                name: alias.clone(),
                kind: "CNAME".into(),
                value: d.clone(),
                why: "viewers reach CloudFront by this alias".into(),
            });
        }
    }
    let url = match (aliases.first(), &domain) {
        (Some(alias), Some(_)) => Some(format!("https://{alias}")),
        (None, Some(d)) => Some(format!("https://{d}")),
        _ => None,
    };
    let deployed = url.is_some();
    printer.result(&Outputs {
        stack: lock.stack.clone(),
        url,
        distribution_id: output(&lock, "distribution", Output::ID).ok(),
        distribution_domain: domain,
        alb_dns_name: alb,
        dns_records,
        signers: signer_keys(&lock),
    })?;
    if !deployed {
        // A script reading the URL must not go on with nothing.
        printer.warn(format!(
            "nothing deployed: {} records no distribution; run `ahi-edge up{}` first",
            session::location(settings, profile.as_ref())?.name(),
            settings.flags()
        ));
        return Ok(ExitStatus::Drift);
    }
    Ok(ExitStatus::Success)
}
