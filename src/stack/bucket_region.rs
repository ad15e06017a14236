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
//! that does not exist is refused too. A grant recorded in the wrong region
//! (by a version before this) is repaired by `up` and tolerated by `down`
//! and `status` through [`of`].

use std::path::Path;

use crate::resources::s3_bucket::region_of;

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
        let (OriginKind::S3 { bucket, region, .. } | OriginKind::S3Website { bucket, region }) =
            &mut origin.kind
        else {
            continue;
        };
        let found = region_of(&clients.s3(region), region, bucket).await?;
        let refused = |reason: String, fix: String| Error::Refused {
            path: path.to_path_buf(),
            reason: format!("checked before any change; nothing was changed: {reason}"),
            fix,
        };
        match found {
            None => {
                return Err(refused(
                    format!("origins.{name}.bucket = {bucket:?}: no such bucket (HeadBucket answered 404)"),
                    "create the bucket first, or correct the name; ahi-edge never creates an origin's bucket"
                        .into(),
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
