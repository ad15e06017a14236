//! One module per AWS resource kind, each with the same small surface
//! (after terraform-provider-aws): a desired spec derived from the profile
//! (plain data, no SDK calls), `find` (by the id the lockfile recorded, else
//! by the deterministic name, so a run that died mid-create adopts what it
//! made), `ensure` (create, or update only when live differs from desired:
//! an unchanged resource costs no write call), and `delete` (NotFound counts
//! as done, so teardown is always safe to re-run).

pub mod distribution;
pub mod edge_role;
pub mod load_balancer;
pub mod log_bucket;
pub mod network;
pub mod origin_secret;
pub mod policy_doc;
pub mod proxy;
pub mod role;
pub mod s3_bucket;
pub mod security_group;
pub mod sets;

use std::collections::BTreeMap;

use crate::aws::AwsError;

/// Tag keys that mark what ahi-edge created; `down` deletes only resources
/// that carry them with this stack's name.
pub const STACK_TAG: &str = "ahi-edge:stack";
pub const RESOURCE_TAG: &str = "ahi-edge:resource";

pub type Tags = BTreeMap<String, String>;

/// Tags as the spec compares them: AWS's own (`aws:`) are not ours to manage.
pub fn user_tags(tags: impl IntoIterator<Item = (String, String)>) -> Tags {
    tags.into_iter().filter(|(k, _)| !k.starts_with("aws:")).collect()
}

/// Whether live tags say this stack owns the resource.
pub fn owned(tags: &Tags, stack: &str) -> bool {
    tags.get(STACK_TAG).is_some_and(|s| s == stack)
}

/// Whether tags mark this stack's instance `id` (EC2 finds by tags).
pub fn ours(tags: &Tags, stack: &str, id: &str) -> bool {
    owned(tags, stack) && tags.get(RESOURCE_TAG).is_some_and(|r| r == id)
}

/// What to set and what to remove to turn `have` into `want`.
pub fn tag_changes(want: &Tags, have: &Tags) -> (Tags, Vec<String>) {
    let set = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = have.keys().filter(|k| !want.contains_key(*k)).cloned().collect();
    (set, remove)
}

/// Brings a resource's tags from `have` to `want` with its service's two
/// calls: `set` gets the tags that differ, `remove` the keys that are extra;
/// neither is called with nothing to do.
pub async fn sync_tags<E>(
    want: &Tags,
    have: &Tags,
    set: impl AsyncFnOnce(Tags) -> Result<(), E>,
    remove: impl AsyncFnOnce(Vec<String>) -> Result<(), E>,
) -> Result<(), E> {
    let (changed, extra) = tag_changes(want, have);
    if !changed.is_empty() {
        set(changed).await?;
    }
    if !extra.is_empty() {
        remove(extra).await?;
    }
    Ok(())
}

/// The profile's tags plus the ownership tags of one resource.
pub fn tags_for(stack: &str, logical_id: &str, user: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut tags = user.clone();
    tags.insert(STACK_TAG.to_string(), stack.to_string());
    tags.insert(RESOURCE_TAG.to_string(), logical_id.to_string());
    tags
}

/// A resource CloudFront guards with an ETag (policies, distributions): its
/// id, the ETag a write must present, and the spec it amounts to.
#[derive(Debug, Clone, PartialEq)]
pub struct Etagged<S> {
    pub id: String,
    pub etag: String,
    pub spec: S,
}

/// How an ETag-guarded write went.
pub enum Write {
    Done,
    /// `PreconditionFailed`: the ETag moved under us; re-read and try again.
    Stale,
}

/// How an ETag-guarded write answered: `PreconditionFailed` is `Stale` (the
/// caller re-reads and tries again), a code in `gone` counts as done (a
/// delete of what is already gone), anything else is the error.
pub fn written<T, E>(
    operation: &'static str,
    gone: &[&str],
    result: Result<T, aws_sdk_cloudfront::error::SdkError<E>>,
) -> Result<Write, AwsError>
where
    E: aws_sdk_cloudfront::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match result.map_err(|e| AwsError::from_sdk(operation, e)) {
        Ok(_) => Ok(Write::Done),
        Err(e) if e.is("PreconditionFailed") => Ok(Write::Stale),
        Err(e) if e.is_any(gone) => Ok(Write::Done),
        Err(e) => Err(e),
    }
}

/// The ETag of a Get answer: every later write must present it, so an
/// answer without one is an error naming the operation, never a default.
pub fn etag_of(operation: &'static str, etag: Option<&str>) -> Result<String, AwsError> {
    etag.map(str::to_string)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| AwsError::missing(operation, "ETag"))
}

/// How often a write is retried after a stale ETag; each retry re-reads first.
const STALE_ETAG_RETRIES: usize = 3;

fn kept_changing(operation: &'static str, what: &str) -> AwsError {
    AwsError {
        operation,
        code: Some("PreconditionFailed".into()),
        message: format!("{what} kept changing under us; run again"),
    }
}

/// Brings `current` to `spec`: no write when they already match, else
/// `update` with the current ETag, re-reading with `get` when it was stale.
/// Returns the id.
pub async fn converge<S: PartialEq>(
    mut current: Etagged<S>,
    spec: &S,
    operation: &'static str,
    get: impl AsyncFn(&str) -> Result<Option<Etagged<S>>, AwsError>,
    update: impl AsyncFn(&Etagged<S>) -> Result<Write, AwsError>,
) -> Result<String, AwsError> {
    for _ in 0..=STALE_ETAG_RETRIES {
        if current.spec == *spec {
            return Ok(current.id);
        }
        match update(&current).await? {
            Write::Done => return Ok(current.id),
            Write::Stale => {
                current = get(&current.id).await?.ok_or_else(|| AwsError {
                    operation,
                    code: Some("NotFound".into()),
                    message: format!(
                        "{} was deleted while being updated; run again to re-create it",
                        current.id
                    ),
                })?;
            }
        }
    }
    Err(kept_changing(operation, &current.id))
}

/// Deletes with the current ETag, re-reading when it was stale; a resource
/// already gone counts as deleted (`delete` answers `Done` for NotFound too).
pub async fn delete_etagged<S>(
    id: &str,
    operation: &'static str,
    get: impl AsyncFn(&str) -> Result<Option<Etagged<S>>, AwsError>,
    delete: impl AsyncFn(&str) -> Result<Write, AwsError>,
) -> Result<(), AwsError> {
    for _ in 0..=STALE_ETAG_RETRIES {
        let Some(current) = get(id).await? else {
            return Ok(());
        };
        if let Write::Done = delete(&current.etag).await? {
            return Ok(());
        }
    }
    Err(kept_changing(operation, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_changes_set_what_differs_and_remove_what_is_extra() {
        let want: Tags = [("a", "1"), ("b", "2")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let have: Tags = [("a", "1"), ("b", "9"), ("c", "3")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (set, remove) = tag_changes(&want, &have);
        assert_eq!(set.into_iter().collect::<Vec<_>>(), [("b".into(), "2".into())]);
        assert_eq!(remove, ["c"]);
        assert!(user_tags([("aws:cloudformation:stack".into(), "x".into())]).is_empty());
    }
}
