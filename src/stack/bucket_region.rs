//! Where an origin bucket lives (issue 27, item 1). S3 answers a bucket's
//! requests only in its own region: elsewhere 301 `PermanentRedirect`,
//! with the bucket's region in `x-amz-bucket-region` (the SDK does not
//! follow it). A route's bucket defaults to the stack's region, so a bucket
//! made elsewhere failed on the grant's first call, after CreateDistribution.
//!
//! `plan` and `up` therefore ask each origin bucket where it is (HeadBucket,
//! a read, before any write): a bucket without a `region` key takes the
//! region S3 names, a `region` key that names another is refused (the
//! profile is wrong: exit 2, the key, the value and the fix), and a bucket
//! that does not exist is refused too, unless the origin says
//! `create = true` (the stack makes it). A grant recorded in the wrong region
//! (by a version before this) is repaired by `up` and tolerated by `down`
//! and `status` through [`of`].

use std::path::Path;

use crate::lockfile::Lockfile;
use crate::resources::s3_bucket::{self, region_of};
use crate::resources::{STACK_TAG, owned};

use crate::engine::clients::Clients;
use crate::error::Error;
use crate::profile::Profile;
use crate::routes::OriginKind;

/// The profile's bucket origins with their real regions: a region S3
/// names replaces a defaulted one (a note says so); a given one that
/// differs, or a bucket that does not exist, is refused before any write.
pub async fn locate(clients: &Clients, profile: &mut Profile, path: &Path) -> Result<Vec<String>, Error> {
    let mut notes = Vec::new();
    for origin in profile.routes.origins.iter_mut() {
        let given = origin.region_given;
        let name = origin.name.clone();
        let (created, bucket, region) = match &mut origin.kind {
            OriginKind::S3 {
                bucket,
                region,
                create,
                ..
            } => (*create, bucket, region),
            OriginKind::S3Website { bucket, region } => (false, bucket, region),
            _ => continue,
        };
        let found = region_of(&clients.s3(region), region, bucket).await?;
        let refused = |reason: String, fix: String| Error::Refused {
            path: path.to_path_buf(),
            reason: format!("checked before any change; nothing was changed: {reason}"),
            fix,
        };
        match found {
            // The stack makes it, in the profile's (or the stack's) region.
            None if created => {}
            None => {
                return Err(refused(
                    format!("origins.{name}.bucket = {bucket:?}: no such bucket (HeadBucket answered 404)"),
                    format!(
                        "create the bucket first, correct the name, or write create = true in [origins.{name}] \
                         for a private bucket the stack makes and owns"
                    ),
                ));
            }
            Some(found) if found == *region => {}
            Some(found) if given => {
                return Err(refused(
                    format!("origins.{name}.region = {region:?}: bucket {bucket} is in {found}"),
                    format!("write region = {found:?} in [origins.{name}], or remove the key"),
                ));
            }
            Some(found) => {
                notes.push(format!(
                    "origin {name}: bucket {bucket} is in {found}, not the stack's region {region}: its grant \
                     and origin use {found} (write region = {found:?} in [origins.{name}] to say so)"
                ));
                *region = found;
            }
        }
    }
    Ok(notes)
}

/// Refuses, before any write, a bucket the stack is to make (`create =
/// true`) that exists without this stack's tag: bucket names are global,
/// and another's bucket is never adopted. A bucket the lockfile records is
/// the engine's to judge (a run killed between CreateBucket and its tags
/// left it untagged).
pub async fn refuse_foreign(
    clients: &Clients,
    profile: &Profile,
    lock: &Lockfile,
    path: &Path,
) -> Result<(), Error> {
    let stack = &profile.stack.name;
    for origin in &profile.routes.origins {
        let OriginKind::S3 {
            bucket,
            region,
            create: true,
            ..
        } = &origin.kind
        else {
            continue;
        };
        if lock
            .resources
            .contains_key(&crate::stack::routes::origin_bucket_id(bucket))
        {
            continue;
        }
        let s3 = clients.s3(region);
        if !s3_bucket::exists(&s3, bucket).await? || owned(&s3_bucket::tags(&s3, bucket).await?, stack) {
            continue;
        }
        let name = &origin.name;
        return Err(Error::Refused {
            path: path.to_path_buf(),
            reason: format!(
                "checked before any change; nothing was changed: origins.{name}.bucket = {bucket:?} with create = \
                 true: the bucket exists and does not carry the tag {STACK_TAG} = {stack}, so the stack will not \
                 adopt it"
            ),
            fix: format!(
                "choose a bucket name nobody uses, or remove create = true in [origins.{name}] to serve that bucket \
                 as it is"
            ),
        });
    }
    Ok(())
}
