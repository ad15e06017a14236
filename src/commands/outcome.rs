//! What became of each resource in `up --json` and `down --json`: a status
//! from a closed set a script can branch on, and the why, apart.

use std::fmt;

use serde::Serialize;

/// Statuses (docs/status.md): `created`, `updated`, `unchanged`,
/// `deleted`, `kept`, `awaiting-replicas`, `failed`, `skipped`; wait steps
/// are `ready`, `failed` or `skipped`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceResult {
    pub id: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl ResourceResult {
    pub fn new(id: &str, status: &'static str, message: Option<String>) -> Self {
        ResourceResult {
            id: id.to_string(),
            status,
            message,
        }
    }

    /// Failed or skipped: what a person must look at.
    pub fn unfinished(&self) -> bool {
        matches!(self.status, "failed" | "skipped")
    }
}

impl fmt::Display for ResourceResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => write!(f, "{}: {}: {m}", self.id, self.status),
            None => write!(f, "{}: {}", self.id, self.status),
        }
    }
}
