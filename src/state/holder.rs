//! Who holds the S3 state lock: the lock object's body, so a second run
//! (and `state unlock`) can say who is in the way.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Names this hold; `ahi-edge state unlock ID` must repeat it.
    pub id: String,
    pub stack: String,
    /// The command that took the lock (`up`, `down`, `state push`, ...).
    pub command: String,
    pub user: String,
    pub host: String,
    pub pid: u32,
    pub started_at: String,
    pub tool_version: String,
}

impl Holder {
    /// This process, about to run `command` on `stack`.
    pub fn this_run(stack: &str, command: &str) -> Result<Holder, String> {
        Ok(Holder {
            id: lock_id()?,
            stack: stack.to_string(),
            command: command.to_string(),
            user: std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .unwrap_or_else(|_| "unknown".into()),
            host: host(),
            pid: std::process::id(),
            started_at: crate::lockfile::now(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }

    pub fn to_json(&self) -> String {
        // Plain strings and a number: encoding cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` of stack {} by {}@{} (pid {}, ahi-edge {}) since {}",
            self.command, self.stack, self.user, self.host, self.pid, self.tool_version, self.started_at
        )
    }
}

/// `L-` and 16 random hex digits: short enough to type, never reused.
fn lock_id() -> Result<String, String> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| format!("no randomness for a lock id: {e}"))?;
    Ok(format!(
        "L-{}",
        random.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_round_trips_and_reads_as_a_sentence() {
        let holder = Holder::this_run("ahi-prod", "up").unwrap();
        assert!(
            holder.id.starts_with("L-") && holder.id.len() == 18,
            "{}",
            holder.id
        );
        assert_ne!(holder.id, Holder::this_run("ahi-prod", "up").unwrap().id);
        let back: Holder = serde_json::from_str(&holder.to_json()).unwrap();
        assert_eq!(back, holder);
        let text = holder.to_string();
        assert!(text.starts_with("`up` of stack ahi-prod by "), "{text}");
        assert!(text.contains(&format!("(pid {}", std::process::id())), "{text}");
    }
}
