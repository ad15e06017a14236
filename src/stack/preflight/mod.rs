//! Checks `plan` and `up` make against AWS (and the identity provider)
//! before the first write, so a wrong value fails in seconds instead of at
//! the call that needs it, after dozens of resources exist, or never (an
//! authorizer that turns every viewer away). Every problem at once, as bad
//! input naming the key, the value and the fix. Read-only calls only.

mod boundary;
mod certificates;
mod fetch;
mod identity;
mod image;
mod quotas;

use std::path::Path;

pub use certificates::covers;
pub use fetch::Fetch;
pub use image::ecr_repository_arn;

use crate::engine::clients::Clients;
use crate::error::Error;
use crate::profile::Profile;

/// What the checks found: problems refuse the run; notes are warnings
/// (what ahi-edge cannot check, a likely but possibly meant mistake).
#[derive(Debug, Default)]
pub struct Findings {
    pub problems: Vec<String>,
    pub notes: Vec<String>,
}

/// Runs every check; `Ok` holds the notes to show, `Err` every problem.
pub async fn check(
    clients: &Clients,
    fetch: &Fetch,
    (profile, account): (&Profile, &str),
    path: &Path,
) -> Result<Vec<String>, Error> {
    let mut found = Findings::default();
    boundary::check(clients, profile, account, &mut found).await?;
    certificates::check(clients, profile, &mut found).await?;
    image::check(clients, fetch, profile, &mut found).await?;
    identity::check(clients, fetch, profile, &mut found).await?;
    quotas::check(clients, profile, &mut found).await?;
    if found.problems.is_empty() {
        return Ok(found.notes);
    }
    let mut reason = format!(
        "checked before any change; nothing was changed:\n      {}",
        found.problems.join("\n      ")
    );
    for note in &found.notes {
        reason.push_str(&format!("\n    note: {note}"));
    }
    Err(Error::Refused {
        path: path.to_path_buf(),
        reason,
        fix: "correct the settings above (each line names its fix), then run the command again".into(),
    })
}
