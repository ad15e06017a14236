//! `[state]`: where the stack's state lives. Absent, or `backend = "local"`:
//! the lockfile beside the profile. `backend = "s3"`: an object in S3
//! shared by a team and its CI (docs/profile.md, docs/lockfile.md).

use super::super::diagnostic::Diagnostics;
use super::super::formats::{self as f};
use super::super::toml_reader::Table;
use super::*;
use crate::state::{self, S3Location};

pub(super) const BACKENDS: &[&str] = &["local", "s3"];

/// `Some(None)`: the local lockfile; `Some(Some(..))`: S3; `None`: an
/// error was reported. `stack_region`: the default for the bucket's region.
pub(super) fn read_state(
    d: &mut Diagnostics,
    root: &mut Table,
    stack_region: Option<&str>,
) -> Option<Option<S3Location>> {
    if !root.contains("state") {
        return Some(None);
    }
    let mut t = root.table(d, "state")?;
    let place = t.place().clone();
    let backend = t.string(d, "backend", "\"s3\"");
    let bucket = t.string(d, "bucket", "\"my-team-ahi-edge-state\"");
    let key = t.string(d, "key", "\"ahi-edge/prod.lock\"");
    let region = t.string(d, "region", "\"us-east-1\"");
    let kms = t.string(d, "kms_key_id", "\"alias/ahi-edge-state\"");
    let backend = require(
        d,
        &t,
        "backend",
        backend,
        "add backend = \"s3\" (or \"local\" for the lockfile beside the profile)",
    );
    t.finish(d);
    let before = d.error_count();
    let backend = one_of(d, &backend?, BACKENDS)?;
    if backend == "local" {
        for (name, given) in [
            ("bucket", &bucket),
            ("key", &key),
            ("region", &region),
            ("kms_key_id", &kms),
        ] {
            if let Some(v) = given {
                d.error(
                    v,
                    format!("is an S3 setting, and backend = \"local\" keeps the state in the lockfile beside the profile ({name} is unused)"),
                    "remove it, or set backend = \"s3\"",
                );
            }
        }
        return (d.error_count() == before).then_some(None);
    }
    let bucket = need(d, &place, "bucket", bucket, "the S3 bucket that holds the state")?;
    if let Err(reason) = state::check_bucket(&bucket.value) {
        d.error(
            &bucket,
            reason,
            "use the bucket's exact name, e.g. \"my-team-ahi-edge-state\"",
        );
    }
    let key = need(
        d,
        &place,
        "key",
        key,
        "the state object's key, e.g. \"ahi-edge/prod.lock\"",
    )?;
    if let Err(reason) = state::check_key(&key.value) {
        d.error(&key, reason, "use a key such as \"ahi-edge/prod.lock\"");
    }
    let region = match &region {
        Some(r) if !f::is_region(&r.value) => {
            d.error(
                r,
                "is not an AWS region",
                f::region_fix(
                    &r.value,
                    f::AWS_REGIONS,
                    "use the state bucket's region, e.g. \"us-east-1\"",
                ),
            );
            None
        }
        Some(r) => Some(r.value.clone()),
        None => stack_region.map(str::to_string),
    };
    if let (Some(kms), Some(region)) = (&kms, &region)
        && let Err(reason) = state::check_kms_key(&kms.value, region)
    {
        d.error(
            kms,
            reason,
            "use a KMS key id, key ARN or alias (alias/NAME) in the bucket's region, or remove kms_key_id for SSE-S3",
        );
    }
    if d.error_count() != before {
        return None;
    }
    // With no region of its own and none from [stack]: reported by [stack].
    let region = region?;
    Some(Some(S3Location {
        bucket: bucket.value,
        key: key.value,
        region,
        kms_key_id: kms.map(|k| k.value),
    }))
}
