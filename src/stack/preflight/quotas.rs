//! CloudFront's quotas a routes profile can exceed, against the account's
//! real values, before the first write: otherwise `TooManyCacheBehaviors`
//! or `TooManyPublicKeys` arrives mid-run, after other resources exist.
//!
//! The values come from Service Quotas (us-east-1, service code
//! `cloudfront`): the applied value, else AWS's default (GetServiceQuota
//! answers `NoSuchResourceException` for a quota the account never
//! changed). When Service Quotas cannot be read (no permission), the
//! profile's `[cloudfront.quotas]` settings stand in, with a note.
//! Account-wide counts (public keys, key groups) are what CloudFront will
//! hold at the run's peak: everything the account has now plus what this
//! run creates (retired keys are deleted only after their replacements
//! exist).

use std::collections::BTreeSet;

use super::Findings;
use crate::aws::{AwsError, sdk};
use crate::engine::clients::Clients;
use crate::error::Error;
use crate::profile::Profile;
use crate::routes::Signer;
use crate::stack::routes::{key_group_name, public_key_name, used_signers};

/// One CloudFront quota, as Service Quotas names it.
struct Quota {
    code: &'static str,
    name: &'static str,
}

const BEHAVIORS: Quota = Quota {
    code: "L-F432D044",
    name: "Cache behaviors per distribution",
};
const ORIGINS: Quota = Quota {
    code: "L-B4048FB4",
    name: "Origins per distribution",
};
const PUBLIC_KEYS: Quota = Quota {
    code: "L-302B5900",
    name: "Public keys per AWS account",
};
const KEY_GROUPS: Quota = Quota {
    code: "L-D64DA6E2",
    name: "Key groups per AWS account",
};
const KEYS_PER_GROUP: Quota = Quota {
    code: "L-9EBD26CA",
    name: "Public keys in a single key group",
};

/// AWS's default for public keys per account (the developer guide's
/// quotas page); the profile has no setting for it.
const DEFAULT_PUBLIC_KEYS: usize = 10;

impl Quota {
    fn label(&self, value: usize) -> String {
        format!("the account's quota \"{}\" ({}) is {value}", self.name, self.code)
    }

    fn increase(&self, wanted: usize) -> String {
        format!(
            "aws service-quotas request-service-quota-increase --service-code cloudfront --quota-code {} --desired-value {wanted} --region us-east-1",
            self.code
        )
    }
}

/// Reads quotas, remembering whether Service Quotas answers at all.
struct Reader<'a> {
    clients: &'a Clients,
    /// Why Service Quotas could not be read, once it could not.
    unreadable: Option<String>,
}

impl Reader<'_> {
    /// The account's value, or `None` when Service Quotas cannot say.
    async fn value(&mut self, q: &Quota) -> Result<Option<usize>, Error> {
        if self.unreadable.is_some() {
            return Ok(None);
        }
        let c = self.clients.service_quotas();
        let applied = c
            .get_service_quota()
            .service_code("cloudfront")
            .quota_code(q.code)
            .send()
            .await
            .map_err(sdk("GetServiceQuota"))
            .map(|o| o.quota().and_then(|q| q.value()));
        let value = match applied {
            Ok(v) => v,
            Err(e) if e.is("NoSuchResourceException") => match c
                .get_aws_default_service_quota()
                .service_code("cloudfront")
                .quota_code(q.code)
                .send()
                .await
                .map_err(sdk("GetAWSDefaultServiceQuota"))
            {
                Ok(o) => o.quota().and_then(|q| q.value()),
                Err(e) => return self.unreadable(e),
            },
            Err(e) => return self.unreadable(e),
        };
        Ok(value.map(|v| v as usize))
    }

    fn unreadable(&mut self, e: AwsError) -> Result<Option<usize>, Error> {
        if e.is_any(&["AccessDeniedException", "NoSuchResourceException"]) {
            self.unreadable = Some(format!(
                "{} answered {}",
                e.operation,
                e.code.as_deref().unwrap_or("?")
            ));
            return Ok(None);
        }
        Err(Error::Aws(e))
    }
}

pub(super) async fn check(clients: &Clients, profile: &Profile, found: &mut Findings) -> Result<(), Error> {
    let table = &profile.routes;
    if table.routes.is_empty() {
        return Ok(());
    }
    let settings = table.quotas;
    let mut reader = Reader {
        clients,
        unreadable: None,
    };
    let behaviours = table.routes.len().saturating_sub(1);
    let limit = reader.value(&BEHAVIORS).await?.unwrap_or(settings.behaviors);
    if behaviours > limit {
        found.problems.push(format!(
            "routes: {} routes make {behaviours} cache behaviours besides the default; {} (fix: merge routes, or {})",
            table.routes.len(),
            BEHAVIORS.label(limit),
            BEHAVIORS.increase(behaviours)
        ));
    }
    let origins: BTreeSet<&str> = table.routes.iter().map(|r| r.origin.as_str()).collect();
    let limit = reader.value(&ORIGINS).await?.unwrap_or(settings.origins);
    if origins.len() > limit {
        found.problems.push(format!(
            "routes: the routes use {} origins; {} (fix: {})",
            origins.len(),
            ORIGINS.label(limit),
            ORIGINS.increase(origins.len())
        ));
    }
    let signers = used_signers(profile);
    if !signers.is_empty() {
        keys(clients, profile, &signers, &mut reader, found).await?;
    }
    if let Some(why) = reader.unreadable {
        found.notes.push(format!(
            "CloudFront's quotas could not be read from Service Quotas ({why}): checked against [cloudfront.quotas] and AWS's defaults instead (allow servicequotas:GetServiceQuota and GetAWSDefaultServiceQuota to check the account's own)"
        ));
    }
    Ok(())
}

/// Public keys and key groups: per group, and across the account.
async fn keys(
    clients: &Clients,
    profile: &Profile,
    signers: &[&Signer],
    reader: &mut Reader<'_>,
    found: &mut Findings,
) -> Result<(), Error> {
    let stack = &profile.stack.name;
    let settings = profile.routes.quotas;
    let limit = reader
        .value(&KEYS_PER_GROUP)
        .await?
        .unwrap_or(settings.keys_per_group);
    for s in signers {
        if s.keys.len() > limit {
            found.problems.push(format!(
                "signers.{}.keys: lists {} keys; {} (fix: remove retired keys, or {})",
                s.name,
                s.keys.len(),
                KEYS_PER_GROUP.label(limit),
                KEYS_PER_GROUP.increase(s.keys.len())
            ));
        }
    }
    let (held_keys, held_groups) = held(clients).await?;
    let new_keys = signers
        .iter()
        .flat_map(|s| s.keys.iter().map(|k| public_key_name(stack, &s.name, k)))
        .filter(|n| !held_keys.contains(n))
        .count();
    let peak = held_keys.len() + new_keys;
    let limit = reader.value(&PUBLIC_KEYS).await?.unwrap_or(DEFAULT_PUBLIC_KEYS);
    if new_keys > 0 && peak > limit {
        found.problems.push(format!(
            "signers: this run creates {new_keys} public keys beside the {} the account holds; {} (fix: delete public keys nothing uses, or {})",
            held_keys.len(),
            PUBLIC_KEYS.label(limit),
            PUBLIC_KEYS.increase(peak)
        ));
    }
    let new_groups = signers
        .iter()
        .map(|s| key_group_name(stack, &s.name))
        .filter(|n| !held_groups.contains(n))
        .count();
    let peak = held_groups.len() + new_groups;
    let limit = reader.value(&KEY_GROUPS).await?.unwrap_or(settings.key_groups);
    if new_groups > 0 && peak > limit {
        found.problems.push(format!(
            "signers: this run creates {new_groups} key groups beside the {} the account holds; {} (fix: delete key groups nothing uses, or {})",
            held_groups.len(),
            KEY_GROUPS.label(limit),
            KEY_GROUPS.increase(peak)
        ));
    }
    Ok(())
}

/// The names of every public key and key group the account holds.
async fn held(clients: &Clients) -> Result<(BTreeSet<String>, BTreeSet<String>), Error> {
    let c = clients.cloudfront();
    let mut keys = BTreeSet::new();
    let mut marker: Option<String> = None;
    loop {
        let out = c
            .list_public_keys()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(sdk("ListPublicKeys"))?;
        let list = out.public_key_list();
        keys.extend(
            list.map(|l| l.items())
                .unwrap_or_default()
                .iter()
                .map(|k| k.name().to_string()),
        );
        marker = list.and_then(|l| l.next_marker()).map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    let mut groups = BTreeSet::new();
    let mut marker: Option<String> = None;
    loop {
        let out = c
            .list_key_groups()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(sdk("ListKeyGroups"))?;
        let list = out.key_group_list();
        groups.extend(
            list.map(|l| l.items())
                .unwrap_or_default()
                .iter()
                .filter_map(|s| s.key_group())
                .filter_map(|g| g.key_group_config())
                .map(|c| c.name().to_string()),
        );
        marker = list.and_then(|l| l.next_marker()).map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    Ok((keys, groups))
}
