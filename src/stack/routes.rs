//! The distribution and what its routes need: the log bucket, one
//! CloudFront Function per distinct rewrite, the Origin Access Control and
//! one grant per private bucket. Every profile has these; a HealthImaging
//! profile adds its own instances (`stack::healthimaging`).
//!
//! Ordering, by `needs`: functions are published before the distribution
//! names them; a bucket's grant is written right after a new distribution's
//! id exists, or before the update that starts routing an existing one to
//! the bucket. What a profile drops is deleted by `up` only after the
//! distribution has deployed without it (`commands::up::prune`).

use crate::engine::kind::Output;
use std::collections::BTreeMap;

use super::StepError;
use super::healthimaging::{names, tags};
use super::instance::{Instance, Sources};
use crate::kinds::cloudfront_policy::Policy;
use crate::kinds::{
    bucket_grant, cloudfront_function, distribution, key_group, log_bucket, origin_access_control,
    origin_bucket, public_key,
};
use crate::lockfile::Lockfile;
use crate::profile::Profile;
use crate::resources::distribution::DistributionSpec;
use crate::resources::log_bucket as bucket_policy;
use crate::resources::s3_bucket::Settings;
use crate::routes::{OriginKind, function_name, transform};

pub const OAC: &str = "origin_access_control";

pub(super) fn log_bucket_name(src: &Sources) -> String {
    names(src).log_bucket(src.account, &src.profile.region)
}

/// The CallerReference an instance's entry recorded (in its spec, or with
/// its intent, before the create call): once recorded it stays; a new create
/// gets a new one, since CloudFront remembers every reference ever sent.
fn recorded_token(src: &Sources, id: &str) -> Option<String> {
    let recorded = src.lock.resources.get(id)?;
    recorded
        .spec_value()
        .get("caller_reference")
        .and_then(|r| r.as_str().map(str::to_string))
        .or_else(|| recorded.token.clone())
}

/// The instance id of a route function (`function/<key>`).
pub fn function_id(key: &str) -> String {
    format!("function/{key}")
}

/// The instance id of a bucket's grant (`grant/<bucket>`).
pub fn grant_id(bucket: &str) -> String {
    format!("grant/{bucket}")
}

/// The instance id of a signer's public key: a changed PEM is a new key.
pub fn public_key_id(signer: &str, key: &crate::routes::SignerKey) -> String {
    format!("public_key/{signer}/{}-{}", key.id, key.digest())
}

/// The instance id of a signer's key group.
pub fn key_group_id(signer: &str) -> String {
    format!("key_group/{signer}")
}

/// The signers the routes use (the others deploy nothing).
/// A route function's comment: what it does, never the profile's values
/// (a prefix or an index could be long; FunctionConfig.Comment is at most
/// `names::CLOUDFRONT_COMMENT_MAX`).
fn function_comment(stack: &str, t: &transform::Transform) -> String {
    format!("ahi-edge stack {stack}: route rewrite ({})", t.kinds())
}

fn public_key_comment(stack: &str, signer: &str, key_id: &str) -> String {
    format!("ahi-edge stack {stack}: signer {signer}, key {key_id}")
}

fn key_group_comment(stack: &str, signer: &str) -> String {
    format!("ahi-edge stack {stack}: signer {signer}")
}

/// CloudFront's name for a signer's public key: the digest makes a changed
/// key file a new key (public keys cannot change in place).
pub fn public_key_name(stack: &str, signer: &str, key: &crate::routes::SignerKey) -> String {
    format!("{stack}-{signer}-{}-{}", key.id, &key.digest()[..8])
}

/// CloudFront's name for a signer's key group.
pub fn key_group_name(stack: &str, signer: &str) -> String {
    format!("{stack}-{signer}")
}

pub fn used_signers(profile: &Profile) -> Vec<&crate::routes::Signer> {
    let table = &profile.routes;
    table
        .signers
        .iter()
        .filter(|s| {
            table
                .routes
                .iter()
                .any(|r| r.signed.as_deref() == Some(s.name.as_str()))
        })
        .collect()
}

/// A private bucket the routes reach.
#[derive(Default)]
struct PrivateBucket {
    region: String,
    /// `s3:ListBucket` granted (some origin asks for it).
    list: bool,
    /// The stack creates and owns it (some origin asks for it).
    create: bool,
}

/// The private buckets the routes reach, by name.
fn private_buckets(profile: &Profile) -> BTreeMap<String, PrivateBucket> {
    let mut out: BTreeMap<String, PrivateBucket> = BTreeMap::new();
    let table = &profile.routes;
    for route in &table.routes {
        let kind = table.origin(&route.origin).map(|o| &o.kind);
        if let Some(OriginKind::S3 {
            bucket,
            region,
            list,
            create,
        }) = kind
        {
            let entry = out.entry(bucket.clone()).or_insert_with(|| PrivateBucket {
                region: region.clone(),
                ..PrivateBucket::default()
            });
            entry.list |= *list;
            entry.create |= *create;
        }
    }
    out
}

/// The route buckets the stack makes (`create = true`): (instance id,
/// region, bucket name).
pub fn created_buckets(profile: &Profile) -> Vec<(String, String, String)> {
    let buckets = private_buckets(profile).into_iter().filter(|(_, b)| b.create);
    buckets
        .map(|(name, b)| (origin_bucket_id(&name), b.region, name))
        .collect()
}

/// The instance id of a bucket the stack owns (`bucket/<bucket>`).
pub fn origin_bucket_id(bucket: &str) -> String {
    format!("bucket/{bucket}")
}

pub fn instances(profile: &Profile, lock: &Lockfile) -> Vec<Instance> {
    let mut out = Vec::new();
    out.push(Instance::of::<log_bucket::LogBucket>(
        "log_bucket",
        &profile.region,
        &[],
        |src| {
            let name = log_bucket_name(src);
            Ok(log_bucket::Spec {
                policy: bucket_policy::policy(&name, src.account, &src.profile.region),
                name,
                settings: Settings {
                    object_ownership: "BucketOwnerPreferred".into(),
                    encryption: "AES256".into(),
                    block_public_access: true,
                    tags: tags(src, "log_bucket"),
                },
            })
        },
    ));
    let mut dist_needs: Vec<String> = [
        "cache_policy",
        "origin_request_policy",
        "response_headers_policy",
        "edge_function",
        "load_balancer",
        "origin_secret",
        "log_bucket",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (key, t) in profile.routes.functions() {
        let id = function_id(&key);
        dist_needs.push(id.clone());
        out.push(Instance::of::<cloudfront_function::CloudFrontFunction>(
            &id,
            "global",
            &[],
            move |src| {
                let stack = &src.profile.stack.name;
                Ok(cloudfront_function::Spec {
                    name: function_name(stack, &key),
                    comment: function_comment(stack, &t),
                    runtime: transform::RUNTIME.into(),
                    code: t.code(),
                })
            },
        ));
    }
    for signer in used_signers(profile) {
        let mut keys = Vec::new();
        for key in &signer.keys {
            let id = public_key_id(&signer.name, key);
            keys.push(id.clone());
            let (signer_name, key, instance) = (signer.name.clone(), key.clone(), id.clone());
            out.push(Instance::of::<Policy<public_key::Api>>(
                &id,
                "global",
                &[],
                move |src| {
                    let stack = &src.profile.stack.name;
                    Ok(public_key::Spec {
                        name: public_key_name(stack, &signer_name, &key),
                        caller_reference: recorded_token(src, &instance)
                            .unwrap_or_else(|| crate::resources::distribution::new_caller_reference(stack)),
                        encoded_key: format!("{}\n", key.pem.trim()),
                        comment: public_key_comment(stack, &signer_name, &key.id),
                    })
                },
            ));
        }
        let group = key_group_id(&signer.name);
        dist_needs.push(group.clone());
        let needs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let signer_name = signer.name.clone();
        out.push(Instance::of::<Policy<key_group::Api>>(
            &group,
            "global",
            &needs,
            move |src| {
                let stack = &src.profile.stack.name;
                let signer = src
                    .profile
                    .routes
                    .signers
                    .iter()
                    .find(|s| s.name == signer_name)
                    .ok_or_else(|| {
                        StepError::Missing(format!("signer {signer_name} is not in the profile"))
                    })?;
                Ok(key_group::Spec {
                    name: key_group_name(stack, &signer_name),
                    keys: signer
                        .keys
                        .iter()
                        .map(|k| src.output(&public_key_id(&signer_name, k), Output::ID))
                        .collect::<Result<_, _>>()?,
                    comment: key_group_comment(stack, &signer_name),
                })
            },
        ));
    }
    let buckets = private_buckets(profile);
    if !buckets.is_empty() {
        dist_needs.push(OAC.into());
        out.push(Instance::of::<Policy<origin_access_control::Api>>(
            OAC,
            "global",
            &[],
            |src| Ok(origin_access_control::Spec::for_stack(&src.profile.stack.name)),
        ));
    }
    // An existing distribution is updated after the grants; a new one is
    // created first (the grant names its ARN).
    let existing = lock
        .resources
        .get("distribution")
        .is_some_and(|e| e.physical_id.is_some() && e.arn.is_some());
    for (bucket, PrivateBucket { region, list, create }) in buckets {
        let id = grant_id(&bucket);
        let mut needs: Vec<String> = if existing {
            vec![]
        } else {
            vec!["distribution".into()]
        };
        if existing {
            dist_needs.push(id.clone());
        }
        if create {
            // Made before its grant writes the bucket's policy.
            let bucket_id = origin_bucket_id(&bucket);
            let name = bucket.clone();
            out.push(Instance::of::<origin_bucket::OriginBucket>(
                &bucket_id,
                &region,
                &[],
                move |src| {
                    Ok(origin_bucket::Spec::private(
                        &name,
                        tags(src, &origin_bucket_id(&name)),
                    ))
                },
            ));
            needs.push(bucket_id);
        }
        let needs: Vec<&str> = needs.iter().map(String::as_str).collect();
        out.push(Instance::of::<bucket_grant::BucketGrant>(
            &id,
            &region,
            &needs,
            move |src| {
                Ok(bucket_grant::Spec::new(
                    &src.profile.stack.name,
                    &bucket,
                    &src.recorded_output("distribution", Output::ARN)?,
                    list,
                ))
            },
        ));
    }
    let needs: Vec<&str> = dist_needs.iter().map(String::as_str).collect();
    let dist = Instance::of::<distribution::Distribution>("distribution", "global", &needs, |src| {
        // Once recorded (with the intent, before the create call), the
        // reference stays; a new create gets a new one.
        let caller_reference = recorded_token(src, "distribution")
            .unwrap_or_else(|| crate::resources::distribution::new_caller_reference(&src.profile.stack.name));
        let hi = src.profile.delivery.as_ref();
        let stack_output = |id: &str, key: Output| -> Result<Option<String>, StepError> {
            match hi {
                Some(_) => src.output(id, key).map(Some),
                None => Ok(None),
            }
        };
        let alb_dns_name = stack_output("load_balancer", crate::kinds::load_balancer::DNS_NAME)?;
        let origin_secret_arn = stack_output("origin_secret", Output::ARN)?;
        let mut function_arns = BTreeMap::new();
        for (key, _) in src.profile.routes.functions() {
            function_arns.insert(key.clone(), src.output(&function_id(&key), Output::ARN)?);
        }
        let mut key_group_ids = BTreeMap::new();
        for signer in used_signers(src.profile) {
            key_group_ids.insert(
                signer.name.clone(),
                src.output(&key_group_id(&signer.name), Output::ID)?,
            );
        }
        let oac_id = match private_buckets(src.profile).is_empty() {
            true => None,
            false => Some(src.output(OAC, Output::ID)?),
        };
        let inputs = crate::resources::distribution::Inputs {
            caller_reference,
            alb_dns_name,
            cache_policy_id: stack_output("cache_policy", Output::ID)?,
            origin_request_policy_id: stack_output("origin_request_policy", Output::ID)?,
            response_headers_policy_id: stack_output("response_headers_policy", Output::ID)?,
            authorizer_version_arn: match hi.is_some_and(|h| h.authorizer()) {
                true => Some(src.output("edge_function", crate::kinds::edge_function::VERSION_ARN)?),
                false => None,
            },
            function_arns,
            key_group_ids,
            oac_id,
            log_bucket_domain: format!("{}.s3.amazonaws.com", log_bucket_name(src)),
            origin_secret_version: stack_output("origin_secret", crate::kinds::origin_secret::VERSION_ID)?,
        };
        Ok(distribution::Spec {
            config: DistributionSpec::new(src.profile, &inputs),
            origin_secret_arn,
            tags: tags(src, "distribution"),
        })
    });
    out.push(Instance::ready("distribution_deployed", &dist));
    out.push(dist);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{CLOUDFRONT_COMMENT_MAX, MAX_PROFILE_NAME, max_stack_name_len};

    fn longest_stack() -> String {
        "s".repeat(max_stack_name_len("us-east-1"))
    }

    #[test]
    fn a_route_functions_comment_fits_for_the_longest_stack_and_any_values() {
        // A prefix and an index as long as a path can be: neither reaches the comment.
        let t = transform::Transform {
            strip_prefix: Some(format!("/{}", "p".repeat(1000))),
            spa_index: Some(format!("/{}.html", "i".repeat(1000))),
            healthimaging: None,
        };
        let comment = function_comment(&longest_stack(), &t);
        assert!(
            comment.len() <= CLOUDFRONT_COMMENT_MAX,
            "{} characters: {comment}",
            comment.len()
        );
        assert!(comment.contains("strip prefix, SPA fallback"));
    }

    #[test]
    fn public_key_and_key_group_comments_fit_for_the_longest_names() {
        let (stack, name) = (longest_stack(), "n".repeat(MAX_PROFILE_NAME));
        let key = public_key_comment(&stack, &name, &name);
        assert!(
            key.len() <= CLOUDFRONT_COMMENT_MAX,
            "{} characters: {key}",
            key.len()
        );
        let group = key_group_comment(&stack, &name);
        assert!(
            group.len() <= CLOUDFRONT_COMMENT_MAX,
            "{} characters: {group}",
            group.len()
        );
    }
}
