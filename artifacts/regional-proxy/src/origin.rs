//! The origin header check (defence in depth behind the ALB rule): a
//! request must carry the header CloudFront adds, exactly once, with one of
//! the accepted values (one; two while the secret rotates). The values come
//! from the task definition's `secrets` (ECS reads them from Secrets
//! Manager when the task starts), never from its plain environment, and
//! never print: not in errors, not in logs, not in `Debug`.

use std::fmt;

use http::{HeaderMap, HeaderName};

use crate::config::ConfigError;

/// The variables: the header's name, the current value, the next value.
pub const HEADER_VAR: &str = "ORIGIN_HEADER";
pub const SECRET_VAR: &str = "ORIGIN_SECRET";
pub const NEXT_VAR: &str = "ORIGIN_SECRET_NEXT";
pub const DEFAULT_HEADER: &str = "X-Custom-Header";
/// An ALB http-header condition value holds at most 128 characters.
const MAX_LEN: usize = 128;

#[derive(Clone, PartialEq)]
pub struct OriginCheck {
    header: HeaderName,
    accepted: Vec<Vec<u8>>,
}

impl fmt::Debug for OriginCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OriginCheck {{ header: {:?}, accepted: {} value(s) <redacted> }}",
            self.header.as_str(),
            self.accepted.len()
        )
    }
}

fn refused(variable: &'static str, problem: &str) -> ConfigError {
    // The value is never echoed: it is a secret.
    ConfigError {
        variable,
        value: Some("<redacted>".into()),
        problem: problem.to_string(),
    }
}

impl OriginCheck {
    /// `None` when no value is configured (the check is off: a proxy run by
    /// hand, or a task definition from before the check existed).
    pub fn from_env(var: &impl Fn(&str) -> Option<String>) -> Result<Option<OriginCheck>, ConfigError> {
        let current = var(SECRET_VAR);
        let next = var(NEXT_VAR);
        let Some(current) = current else {
            if next.is_some() {
                return Err(ConfigError {
                    variable: SECRET_VAR,
                    value: None,
                    problem: "ORIGIN_SECRET_NEXT is set without it: set both (during a rotation) or only ORIGIN_SECRET".into(),
                });
            }
            return Ok(None);
        };
        let name = var(HEADER_VAR).unwrap_or_else(|| DEFAULT_HEADER.into());
        let header = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| ConfigError {
            variable: HEADER_VAR,
            value: Some(name.clone()),
            problem: "not an HTTP header name".into(),
        })?;
        let mut accepted = Vec::new();
        for (variable, value) in [(SECRET_VAR, Some(current)), (NEXT_VAR, next)] {
            let Some(value) = value else { continue };
            if value.len() > MAX_LEN || !value.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(refused(
                    variable,
                    "must be 1 to 128 visible ASCII characters, as an ALB header condition holds",
                ));
            }
            accepted.push(value.into_bytes());
        }
        Ok(Some(OriginCheck { header, accepted }))
    }

    /// Whether the request carries the header exactly once with an accepted
    /// value. Every accepted value is compared, each in constant time for
    /// its length, so timing does not say how much of a guess was right.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let mut values = headers.get_all(&self.header).iter();
        let (Some(given), None) = (values.next(), values.next()) else {
            return false;
        };
        let given = given.as_bytes();
        self.accepted
            .iter()
            .fold(false, |any, value| any | constant_time_eq(given, value))
    }
}

/// Equal bytes, without an early exit on the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use http::HeaderValue;

    use super::*;

    const OLD: &str = "Abc123Abc123Abc123Abc123Abc123Ab";
    const NEW: &str = "Zyx987Zyx987Zyx987Zyx987Zyx987Zy";

    fn check(pairs: &[(&str, &str)]) -> Result<Option<OriginCheck>, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        OriginCheck::from_env(&|k: &str| map.get(k).cloned())
    }

    fn headers(values: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in values {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn one_value_is_accepted_in_the_named_header_only() {
        let c = check(&[(SECRET_VAR, OLD)]).unwrap().unwrap();
        assert!(c.allows(&headers(&[("X-Custom-Header", OLD)])));
        assert!(
            c.allows(&headers(&[("x-custom-header", OLD)])),
            "names are case-insensitive"
        );
        assert!(!c.allows(&headers(&[])));
        assert!(!c.allows(&headers(&[("X-Custom-Header", NEW)])));
        assert!(!c.allows(&headers(&[("X-Other", OLD)])));
        assert!(
            !c.allows(&headers(&[("X-Custom-Header", &OLD.to_lowercase())])),
            "values are exact"
        );
        assert!(!c.allows(&headers(&[("X-Custom-Header", &OLD[..31])])));
        assert!(!c.allows(&headers(&[("X-Custom-Header", &format!("{OLD} "))])));
        assert!(
            !c.allows(&headers(&[("X-Custom-Header", OLD), ("X-Custom-Header", OLD)])),
            "a duplicated header is refused"
        );
        assert!(!c.allows(&headers(&[("X-Custom-Header", NEW), ("X-Custom-Header", OLD)])));
    }

    #[test]
    fn during_a_rotation_both_values_are_accepted_and_nothing_else() {
        let c = check(&[(HEADER_VAR, "X-Origin-Auth"), (SECRET_VAR, OLD), (NEXT_VAR, NEW)])
            .unwrap()
            .unwrap();
        assert!(c.allows(&headers(&[("X-Origin-Auth", OLD)])));
        assert!(c.allows(&headers(&[("X-Origin-Auth", NEW)])));
        assert!(!c.allows(&headers(&[("X-Origin-Auth", "")])));
        assert!(!c.allows(&headers(&[("X-Custom-Header", OLD)])));
    }

    #[test]
    fn no_value_means_no_check_and_bad_settings_never_echo_the_secret() {
        assert_eq!(check(&[]).unwrap(), None);
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[(NEXT_VAR, NEW)],
                "ORIGIN_SECRET is not set: ORIGIN_SECRET_NEXT is set without it",
            ),
            (
                &[(SECRET_VAR, "with space inside")],
                "ORIGIN_SECRET = \"<redacted>\": must be",
            ),
            (
                &[(SECRET_VAR, OLD), (NEXT_VAR, "tab\there")],
                "ORIGIN_SECRET_NEXT = \"<redacted>\": must be",
            ),
            (
                &[(SECRET_VAR, OLD), (HEADER_VAR, "bad header")],
                "ORIGIN_HEADER = \"bad header\": not an HTTP header name",
            ),
        ];
        for (env, expected) in cases {
            let message = check(env).unwrap_err().to_string();
            assert!(
                message.starts_with(expected),
                "{message:?} should start with {expected:?}"
            );
            for (_, value) in env.iter() {
                if *value != "bad header" {
                    assert!(!message.contains(value), "{message:?} shows a value");
                }
            }
        }
        let too_long = "a".repeat(129);
        assert!(check(&[(SECRET_VAR, &too_long)]).is_err());
        let shown = format!("{:?}", check(&[(SECRET_VAR, OLD), (NEXT_VAR, NEW)]).unwrap());
        assert!(!shown.contains(OLD) && !shown.contains(NEW), "{shown}");
    }

    #[test]
    fn constant_time_equality_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
