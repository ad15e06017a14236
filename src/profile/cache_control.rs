//! `cloudfront.viewer_cache_control`: the `Cache-Control` viewers get on the
//! HealthImaging behaviour. The proxy answers frames `public, max-age=31536000,
//! immutable` so the edge caches them a year; that header must not reach a
//! browser or a proxy between it and the edge (PHI on shared workstations,
//! TLS-inspecting proxies). The stack's response headers policy replaces it
//! toward viewers only (docs/profile.md).
//!
//! The value is checked offline and rewritten to one canonical spelling
//! (lower-case names, `, ` between directives) so that what `plan` shows,
//! what is sent and what is compared are the same bytes.

/// The default: no browser or intermediary keeps a frame.
pub const DEFAULT: &str = "private, no-store";

/// Response directives (RFC 9111 section 5.2.2, RFC 8246 `immutable`,
/// RFC 5861 `stale-*`) a viewer value may use, and whether each takes
/// delta-seconds.
const ALLOWED: &[(&str, bool)] = &[
    ("private", false),
    ("no-store", false),
    ("no-cache", false),
    ("no-transform", false),
    ("must-revalidate", false),
    ("must-understand", false),
    ("immutable", false),
    ("max-age", true),
    ("stale-while-revalidate", true),
    ("stale-if-error", true),
];

/// Directives that let a shared cache (a proxy between viewer and edge)
/// store the response: refused, whatever else the value says.
const SHARED: &[&str] = &["public", "s-maxage", "proxy-revalidate"];

/// Checks a profile value; returns its canonical spelling, or why it is refused.
pub fn canonical(value: &str) -> Result<String, String> {
    if value.len() > 256 {
        return Err("is longer than 256 characters".into());
    }
    if let Some(c) = value.chars().find(|c| !(c.is_ascii_graphic() || *c == ' ')) {
        return Err(format!("has {c:?}; a header value here is printable ASCII only"));
    }
    let mut out: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for part in value.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return Err("has an empty directive (a stray comma)".into());
        }
        let (name, argument) = match part.split_once('=') {
            Some((n, a)) => (n.trim().to_ascii_lowercase(), Some(a.trim())),
            None => (part.to_ascii_lowercase(), None),
        };
        if SHARED.contains(&name.as_str()) {
            return Err(format!(
                "has {name:?}, which lets shared caches (proxies between the viewer and the edge) keep PHI"
            ));
        }
        let Some((_, seconds)) = ALLOWED.iter().find(|(n, _)| *n == name) else {
            return Err(format!(
                "has {name:?}, which is not a Cache-Control response directive"
            ));
        };
        let directive = match (seconds, argument) {
            (true, Some(a)) if !a.is_empty() && a.len() <= 10 && a.bytes().all(|b| b.is_ascii_digit()) => {
                // Leading zeros say nothing: one spelling per number.
                format!("{name}={}", a.parse::<u64>().unwrap_or_default())
            }
            (true, _) => return Err(format!("has {name} without a number of seconds ({name}=60)")),
            // `private="field"` makes only that field private and the rest
            // storable by shared caches: no arguments anywhere else.
            (false, Some(_)) => return Err(format!("has {name} with an argument; {name} takes none here")),
            (false, None) => name.clone(),
        };
        if names.contains(&name) {
            return Err(format!("has {name} twice"));
        }
        names.push(name);
        out.push(directive);
    }
    if !names.iter().any(|n| n == "private" || n == "no-store") {
        return Err("has neither private nor no-store, so a shared cache may keep the response".into());
    }
    Ok(out.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_and_private_values_are_accepted_in_one_spelling() {
        assert_eq!(canonical(DEFAULT).unwrap(), DEFAULT);
        assert_eq!(canonical("Private ,MAX-AGE=060").unwrap(), "private, max-age=60");
        assert_eq!(
            canonical("no-store,no-transform").unwrap(),
            "no-store, no-transform"
        );
    }

    #[test]
    fn values_that_let_a_shared_cache_keep_phi_are_refused() {
        for bad in [
            "public, max-age=31536000, immutable",
            "PUBLIC",
            "private, public",
            "private, s-maxage=60",
            "private, proxy-revalidate",
            "max-age=60",
            "private=\"set-cookie\", max-age=60",
            "no-cache",
        ] {
            assert!(canonical(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn values_that_are_not_a_directive_list_are_refused() {
        for bad in [
            "",
            "private,",
            "private, no-store\r\nX-Injected: 1",
            "private; no-store",
            "private, max-age",
            "private, max-age=-1",
            "private, max-age=1e3",
            "private, private",
            "private, bogus",
            "private, no-store\u{2028}",
        ] {
            assert!(canonical(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(canonical(&format!("private, {}", "no-store, ".repeat(40))).is_err());
    }
}
