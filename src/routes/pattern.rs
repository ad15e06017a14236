//! CloudFront's path patterns: `*` matches any run of characters (across
//! `/`), `?` exactly one, matching is case-sensitive, the leading `/` is
//! optional, and the query string is not part of the match. `*` alone is
//! the default behaviour's pattern.

/// The characters CloudFront accepts in a path pattern (plus `&`, which it
/// stores as `&amp;`).
const ALLOWED: &str = "_-.*$/~\"'@:+&?";

/// CloudFront's limit on a path pattern's length.
pub const MAX_LEN: usize = 255;

/// The pattern with its leading `/` (CloudFront treats `api/*` as `/api/*`).
pub fn normal(pattern: &str) -> String {
    if pattern == "*" || pattern.starts_with('/') {
        pattern.to_string()
    } else {
        format!("/{pattern}")
    }
}

pub fn is_default(pattern: &str) -> bool {
    pattern == "*"
}

/// Why a pattern is not one CloudFront accepts.
pub fn check(pattern: &str) -> Result<(), String> {
    if pattern.is_empty() {
        return Err("is empty".into());
    }
    if pattern.len() > MAX_LEN {
        return Err(format!(
            "is {} characters; CloudFront allows {MAX_LEN}",
            pattern.len()
        ));
    }
    if let Some(c) = pattern
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ALLOWED.contains(*c)))
    {
        return Err(format!(
            "contains {c:?}; path patterns allow letters, digits and {ALLOWED}"
        ));
    }
    Ok(())
}

/// Whether `path` (no query string) matches `pattern`.
pub fn matches(pattern: &str, path: &str) -> bool {
    if is_default(pattern) {
        return true;
    }
    let p: Vec<char> = normal(pattern).chars().collect();
    let s: Vec<char> = path.chars().collect();
    glob(&p, &s)
}

/// Iterative glob match with backtracking to the last `*` (linear in practice).
fn glob(p: &[char], s: &[char]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether every path `inner` matches also matches `outer` (so a route
/// with `inner` after one with `outer` can never be reached). Sound: a
/// `true` is always right; exotic inclusions may answer `false`.
pub fn includes(outer: &str, inner: &str) -> bool {
    if is_default(outer) {
        return true;
    }
    if is_default(inner) {
        return false;
    }
    let o: Vec<char> = normal(outer).chars().collect();
    let i: Vec<char> = normal(inner).chars().collect();
    covers(&o, &i)
}

/// `outer`'s tokens cover `inner`'s: `*` takes any run of inner tokens
/// (wildcards included), `?` one literal or `?`, a literal only itself.
fn covers(o: &[char], i: &[char]) -> bool {
    match (o.first(), i.first()) {
        (None, None) => true,
        (Some('*'), _) => covers(&o[1..], i) || (!i.is_empty() && covers(o, &i[1..])),
        (None, Some(_)) | (Some(_), None) => false,
        (Some('?'), Some(c)) => *c != '*' && covers(&o[1..], &i[1..]),
        (Some(a), Some(b)) => a == b && covers(&o[1..], &i[1..]),
    }
}

/// A concrete path the pattern matches, for messages and tests
/// (`/api/v2/*` gives `/api/v2/x`).
pub fn example(pattern: &str) -> String {
    if is_default(pattern) {
        return "/x".into();
    }
    normal(pattern)
        .chars()
        .map(|c| if c == '*' || c == '?' { 'x' } else { c })
        .collect()
}

/// The shortest path the pattern matches (every `*` empty, `?` as `x`).
pub fn shortest(pattern: &str) -> String {
    if is_default(pattern) {
        return "/".into();
    }
    normal(pattern)
        .chars()
        .filter(|c| *c != '*')
        .map(|c| if c == '?' { 'x' } else { c })
        .collect()
}

/// The literal text every matching path starts with (`/api/` for `/api/*`).
pub fn literal_prefix(pattern: &str) -> String {
    if is_default(pattern) {
        return "/".into();
    }
    normal(pattern)
        .chars()
        .take_while(|c| *c != '*' && *c != '?')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudfront_matching_rules() {
        let cases: &[(&str, &str, bool)] = &[
            ("/api/*", "/api/users", true),
            ("/api/*", "/api/", true),
            ("/api/*", "/api", false),
            ("/api/*", "/API/users", false),       // case-sensitive
            ("api/*", "/api/users", true),         // leading slash optional
            ("/api/*", "/api/v2/deep/path", true), // `*` crosses `/`
            ("/img/*.jpg", "/img/a/b.jpg", true),
            ("/img/*.jpg", "/img/a.png", false),
            ("/v?/*", "/v2/x", true),
            ("/v?/*", "/v22/x", false), // `?` is exactly one character
            ("/v?/*", "/v/x", false),
            ("*", "/anything", true),
            ("*", "/", true),
            ("/index.html", "/index.html", true),
            ("/index.html", "/index.htm", false),
            ("/*.css", "/a/b/site.css", true),
            ("/a*b*c", "/aXbYc", true),
            ("/a*b*c", "/aXbY", false),
        ];
        for (pattern, path, want) in cases {
            assert_eq!(matches(pattern, path), *want, "{pattern} vs {path}");
        }
    }

    #[test]
    fn inclusion_is_sound_for_shadowing() {
        assert!(includes("/api/*", "/api/v2/*"));
        assert!(includes("/api/*", "/api/users"));
        assert!(includes("*", "/x/*"));
        assert!(includes("/*", "/a?c"));
        assert!(includes("/a?c", "/abc"));
        assert!(!includes("/a?c", "/a*c"));
        assert!(!includes("/api/v2/*", "/api/*"));
        assert!(!includes("/api/*", "*"));
        assert!(!includes("/api/*", "/apiv2/*"));
        assert!(!includes("/*.jpg", "/img/*"));
        // Whatever `includes` says, every example of the inner pattern agrees.
        for (outer, inner) in [("/api/*", "/api/v2/*"), ("/*", "/a?c"), ("/a*", "/ab*c")] {
            assert!(includes(outer, inner));
            assert!(matches(outer, &example(inner)));
            assert!(matches(outer, &shortest(inner)));
        }
    }

    #[test]
    fn syntax() {
        assert!(check("/api/*").is_ok());
        assert!(check("/a b").unwrap_err().contains("' '"));
        assert!(check(&"/a".repeat(200)).unwrap_err().contains("255"));
        assert!(check("").is_err());
        assert_eq!(example("/api/v2/*"), "/api/v2/x");
        assert_eq!(shortest("/storage/*"), "/storage/");
        assert_eq!(literal_prefix("api/*"), "/api/");
    }
}
