//! Where a stack's state lives, and the rules its names follow (shared by
//! the profile's `[state]` table and the `--state` flag).

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// The suffix of the lock object beside the state object.
pub const LOCK_SUFFIX: &str = ".run-lock";

/// The state: a local lockfile, or an object in S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    S3(S3Location),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(path) => write!(f, "{} (local file)", path.display()),
            Location::S3(s3) => write!(f, "{} (S3, {})", s3.url(), s3.region),
        }
    }
}

impl Location {
    /// The file's path or the object's URL.
    pub fn name(&self) -> String {
        match self {
            Location::Local(path) => path.display().to_string(),
            Location::S3(s3) => s3.url(),
        }
    }
}

/// The state object in S3 (`[state] backend = "s3"`, or `--state`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct S3Location {
    pub bucket: String,
    pub key: String,
    /// The bucket's region: every state call goes there.
    pub region: String,
    /// SSE-KMS with this key; else the key the object was last written
    /// with, else SSE-S3.
    pub kms_key_id: Option<String>,
}

impl S3Location {
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// The lock object a run holds while it may write the state.
    pub fn lock_key(&self) -> String {
        format!("{}{LOCK_SUFFIX}", self.key)
    }
}

/// `s3://BUCKET/KEY` -> (bucket, key), each checked.
pub fn parse_url(text: &str) -> Result<(String, String), String> {
    let rest = text
        .strip_prefix("s3://")
        .ok_or_else(|| "is not an s3://BUCKET/KEY URL".to_string())?;
    let (bucket, key) = rest
        .split_once('/')
        .ok_or_else(|| "names a bucket but no key: s3://BUCKET/KEY".to_string())?;
    check_bucket(bucket)?;
    check_key(key)?;
    Ok((bucket.to_string(), key.to_string()))
}

/// S3's general purpose bucket naming rules (3-63 characters, lowercase
/// letters, digits, `-` and `.`, starting and ending with a letter or digit).
pub fn check_bucket(bucket: &str) -> Result<(), String> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
        && !bucket.starts_with(['-', '.'])
        && !bucket.ends_with(['-', '.'])
        && !bucket.contains("..");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{bucket:?} is not an S3 bucket name: 3-63 lowercase letters, digits, `-` and `.`"
        ))
    }
}

/// A state key: S3 allows almost anything, this allows what reads back the
/// same everywhere (a shell, a console, a policy ARN): printable ASCII path
/// segments, no empty or `.`/`..` segment, at most 1024 bytes, and not the
/// lock object's own suffix.
pub fn check_key(key: &str) -> Result<(), String> {
    let printable = |c: char| c.is_ascii_graphic() && !"\\\"'`*?{}[]#%<>^|~".contains(c);
    if key.is_empty() || key.len() > 1024 {
        return Err("a state key is 1 to 1024 characters, e.g. \"ahi-edge/prod.lock\"".into());
    }
    if !key.chars().all(printable) {
        return Err(format!(
            "{key:?} holds a space, a control character, a quote or a wildcard: use letters, digits and `/ . _ - = + , : ; @ & $ ! ( )`"
        ));
    }
    if key.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(format!(
            "{key:?} has an empty, `.` or `..` path segment (a leading, trailing or doubled `/`)"
        ));
    }
    if key.ends_with(LOCK_SUFFIX) {
        return Err(format!(
            "{key:?} ends with {LOCK_SUFFIX:?}, the suffix of the lock object ahi-edge keeps beside the state"
        ));
    }
    Ok(())
}

/// A KMS key for SSE-KMS: a key id, a key ARN, an alias name or an alias
/// ARN; an ARN must be in the bucket's region (S3 uses a key of its own region).
pub fn check_kms_key(id: &str, bucket_region: &str) -> Result<(), String> {
    let uuid = |s: &str| {
        let parts: Vec<&str> = s.split('-').collect();
        parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
            && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
    };
    let mrk =
        |s: &str| s.starts_with("mrk-") && s.len() == 36 && s[4..].chars().all(|c| c.is_ascii_hexdigit());
    let alias = |s: &str| {
        s.strip_prefix("alias/").is_some_and(|n| {
            !n.is_empty()
                && !n.starts_with("aws/")
                && n.chars().all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
        })
    };
    if uuid(id) || mrk(id) || alias(id) {
        return Ok(());
    }
    let parts: Vec<&str> = id.splitn(6, ':').collect();
    if let ["arn", partition, "kms", region, account, resource] = parts.as_slice()
        && partition.starts_with("aws")
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
    {
        let resource_ok = resource.strip_prefix("key/").is_some_and(|k| uuid(k) || mrk(k)) || alias(resource);
        if !resource_ok {
            return Err(format!("{id:?} is not a KMS key or alias ARN"));
        }
        if *region != bucket_region {
            return Err(format!(
                "{id:?} is in {region}, but the state bucket is in {bucket_region}: S3 encrypts with a key of the bucket's region"
            ));
        }
        return Ok(());
    }
    Err(format!(
        "{id:?} is not a KMS key id, key ARN, alias/NAME or alias ARN"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_a_checked_bucket_and_key() {
        assert_eq!(
            parse_url("s3://team-state/ahi-edge/prod.lock"),
            Ok(("team-state".into(), "ahi-edge/prod.lock".into()))
        );
        for bad in [
            "team-state/prod.lock",
            "s3://team-state",
            "s3://Team/prod.lock",
            "s3://team-state/",
            "s3://team-state/a//b",
            "s3://team-state/../b",
            "s3://team-state/a b",
            "s3://team-state/a\nb",
            "s3://team-state/prod.lock.run-lock",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kms_keys_take_the_four_forms_aws_accepts_in_the_bucket_region() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        for ok in [
            id.to_string(),
            "alias/team-state".into(),
            format!("arn:aws:kms:eu-west-1:111122223333:key/{id}"),
            "arn:aws:kms:eu-west-1:111122223333:alias/team-state".into(),
        ] {
            assert_eq!(check_kms_key(&ok, "eu-west-1"), Ok(()), "{ok}");
        }
        assert!(
            check_kms_key(
                &format!("arn:aws:kms:us-east-1:111122223333:key/{id}"),
                "eu-west-1"
            )
            .unwrap_err()
            .contains("bucket's region")
        );
        for bad in ["alias/aws/s3", "key", "arn:aws:kms:eu-west-1:1:key/x"] {
            assert!(check_kms_key(bad, "eu-west-1").is_err(), "{bad}");
        }
    }

    #[test]
    fn the_lock_object_sits_beside_the_state_object() {
        let at = S3Location {
            bucket: "team-state".into(),
            key: "ahi-edge/prod.lock".into(),
            region: "eu-west-1".into(),
            kms_key_id: None,
        };
        assert_eq!(at.lock_key(), "ahi-edge/prod.lock.run-lock");
        assert_eq!(
            Location::S3(at).to_string(),
            "s3://team-state/ahi-edge/prod.lock (S3, eu-west-1)"
        );
    }
}
