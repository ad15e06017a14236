//! What a route changes in the request before CloudFront picks the cache
//! key and calls the origin: strip a path prefix, fall back to the SPA's
//! index. CloudFront cannot do either by configuration, so each distinct
//! transform becomes one small CloudFront Function (viewer-request), and
//! [`Transform::apply`] is the Rust twin the route evaluator uses. The
//! test suite runs every generated function under node and compares.
//!
//! Nothing from a profile becomes code: the generated text carries no
//! profile value in a comment, and each value reaches it only as a string
//! literal that is pure ASCII, every other character `\u`-escaped
//! (U+2028/U+2029 included, which JSON allows raw but older JavaScript
//! reads as line ends). `validate` refuses values outside CloudFront's
//! path characters before they get here ([`literal_path_error`]); the
//! generator is safe for any string all the same (tests/cli/function_injection.rs).

use serde::Serialize;

use super::scope_function::EdgeScope;

/// The runtime every generated function uses.
pub const RUNTIME: &str = "cloudfront-js-2.0";

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Transform {
    /// A literal prefix removed from the URI (`/api` makes `/api/users`
    /// `/users`); the result always starts with `/`.
    pub strip_prefix: Option<String>,
    /// The SPA's index document: a GET or HEAD whose last path segment has
    /// no `.` (a client-side route, not a file) is served this URI.
    pub spa_index: Option<String>,
    /// A HealthImaging route without the authorizer: the scope checks and
    /// the canonical query, in the function (`routes::scope_function`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthimaging: Option<EdgeScope>,
}

impl Transform {
    pub fn is_identity(&self) -> bool {
        !self.rewrites_path() && self.healthimaging.is_none()
    }

    /// Whether it changes the URI (a prefix or an SPA fallback).
    pub fn rewrites_path(&self) -> bool {
        self.strip_prefix.is_some() || self.spa_index.is_some()
    }

    /// The URI the origin is asked for (before the origin path).
    pub fn apply(&self, method: &str, uri: &str) -> String {
        let mut uri = uri.to_string();
        if let Some(prefix) = &self.strip_prefix
            && uri.starts_with(prefix.as_str())
        {
            uri = uri[prefix.len()..].to_string();
            if !uri.starts_with('/') {
                uri.insert(0, '/');
            }
        }
        if let Some(index) = &self.spa_index {
            let last = &uri[uri.rfind('/').map_or(0, |i| i + 1)..];
            if (method == "GET" || method == "HEAD") && !last.contains('.') {
                uri = index.clone();
            }
        }
        uri
    }

    /// What it does, without the profile's values: the only words of a
    /// function's code comment and its CloudFront comment.
    pub fn kinds(&self) -> String {
        let mut parts = Vec::new();
        if self.strip_prefix.is_some() {
            parts.push("strip prefix");
        }
        if self.spa_index.is_some() {
            parts.push("SPA fallback");
        }
        if self.healthimaging.is_some() {
            parts.push("HealthImaging scope");
        }
        parts.join(", ")
    }

    /// What it does, with its values (`routes show`, `routes test`).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.strip_prefix {
            parts.push(format!("strip {p}"));
        }
        if let Some(i) = &self.spa_index {
            parts.push(format!("SPA fallback {i}"));
        }
        if let Some(scope) = &self.healthimaging {
            parts.push(scope.describe());
        }
        parts.join(", ")
    }

    /// The CloudFront Function (cloudfront-js-2.0, viewer-request). Only
    /// ES5 string methods, so the same code runs on either runtime.
    pub fn code(&self) -> String {
        let mut body = String::new();
        if let Some(prefix) = &self.strip_prefix {
            body.push_str(&format!(
                "  var prefix = {};\n  if (uri.indexOf(prefix) === 0) {{\n    uri = uri.slice(prefix.length);\n    if (uri.charAt(0) !== \"/\") uri = \"/\" + uri;\n  }}\n",
                js_string(prefix)
            ));
        }
        if let Some(index) = &self.spa_index {
            body.push_str(&format!(
                "  var last = uri.slice(uri.lastIndexOf(\"/\") + 1);\n  if ((request.method === \"GET\" || request.method === \"HEAD\") && last.indexOf(\".\") === -1) uri = {};\n",
                js_string(index)
            ));
        }
        let (scope, check) = match &self.healthimaging {
            Some(scope) => (
                scope.code(),
                "  var refused = scope(request);\n  if (refused) return refused;\n",
            ),
            None => (String::new(), ""),
        };
        format!(
            "// ahi-edge route transform: {}\n{scope}function handler(event) {{\n  var request = event.request;\n  var uri = request.uri;\n{body}  request.uri = uri;\n{check}  return request;\n}}\n",
            self.kinds()
        )
    }
}

/// A JavaScript string literal holding exactly `s`, in printable ASCII
/// only: a JSON string (quotes, backslashes and control characters
/// escaped) with every other character written as `\uXXXX` (UTF-16 units),
/// so no line terminator (U+2028, U+2029 included), `<`, `>`, `&`, `'` or
/// invisible character appears in the code as itself.
pub fn js_string(s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if (c == ' ' || c.is_ascii_graphic()) && !matches!(c, '<' | '>' | '&' | '\'') {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// The characters CloudFront allows in a path pattern, less its wildcards
/// (`*`, `?`) and quotes: what a literal path a function compares or sets
/// (a strip prefix, an SPA index) may hold.
pub const LITERAL_PATH_CHARS: &str = "_-.$/~@:+&";

/// Why `value` cannot appear in a generated function: a character outside
/// letters, digits and [`LITERAL_PATH_CHARS`].
pub fn path_chars_error(value: &str) -> Option<String> {
    value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || LITERAL_PATH_CHARS.contains(*c)))
        .map(|c| {
            format!(
                "contains {}; a path here holds only letters, digits and {LITERAL_PATH_CHARS} (CloudFront's path characters, no wildcards or quotes)",
                shown(c)
            )
        })
}

/// Why `value` cannot be a URI a generated function sets: its characters
/// ([`path_chars_error`]), or no leading `/`.
pub fn literal_path_error(value: &str) -> Option<String> {
    path_chars_error(value)
        .or_else(|| (!value.starts_with('/')).then(|| "must be a path starting with /".to_string()))
}

/// A character named so a terminal shows it whatever it is.
fn shown(c: char) -> String {
    if c.is_ascii_graphic() {
        format!("{c:?}")
    } else {
        format!("U+{:04X}", c as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(strip: Option<&str>, spa: Option<&str>) -> Transform {
        Transform {
            strip_prefix: strip.map(str::to_string),
            spa_index: spa.map(str::to_string),
            healthimaging: None,
        }
    }

    #[test]
    fn strip_and_spa() {
        let strip = t(Some("/api"), None);
        assert_eq!(strip.apply("GET", "/api/users"), "/users");
        assert_eq!(strip.apply("GET", "/api/"), "/");
        assert_eq!(strip.apply("GET", "/other"), "/other");
        assert_eq!(t(Some("/api/"), None).apply("GET", "/api/users"), "/users");
        let spa = t(None, Some("/index.html"));
        assert_eq!(spa.apply("GET", "/dashboard/42"), "/index.html");
        assert_eq!(spa.apply("HEAD", "/"), "/index.html");
        assert_eq!(spa.apply("GET", "/assets/app.js"), "/assets/app.js");
        assert_eq!(spa.apply("POST", "/dashboard"), "/dashboard");
        let both = t(Some("/app"), Some("/index.html"));
        assert_eq!(both.apply("GET", "/app/settings"), "/index.html");
        assert_eq!(both.apply("GET", "/app/main.css"), "/main.css");
    }

    #[test]
    fn code_is_small_and_quotes_safely() {
        let code = t(Some("/a\"b"), Some("/index.html")).code();
        assert!(code.contains(r#""/a\"b""#), "{code}");
        assert!(code.len() < 1024, "{} bytes", code.len());
    }

    #[test]
    fn string_literals_are_printable_ascii_and_comments_hold_no_value() {
        let hostile = "/x\n*/</script>\u{2028}\u{2029}\0'\"\\é😀\u{feff}";
        assert_eq!(
            js_string(hostile),
            r#""/x\n*/\u003c/script\u003e\u2028\u2029\u0000\u0027\"\\\u00e9\ud83d\ude00\ufeff""#
        );
        let code = t(Some(hostile), Some(hostile)).code();
        assert!(
            code.bytes().all(|b| b == b'\n' || (0x20..0x7f).contains(&b)),
            "{code}"
        );
        let comment = code.lines().next().unwrap();
        assert_eq!(comment, "// ahi-edge route transform: strip prefix, SPA fallback");
    }

    #[test]
    fn literal_paths_hold_cloudfront_path_characters_only() {
        assert_eq!(literal_path_error("/api"), None);
        assert_eq!(literal_path_error("/a-b_c.d~e$f@g:h+i&j/index.html"), None);
        for bad in [
            "/a\nb",
            "/a b",
            "/a*",
            "/a?",
            "/a\"",
            "/a'",
            "/a\\",
            "/é",
            "/a\u{2028}",
            "/a%20",
        ] {
            assert!(
                literal_path_error(bad).is_some_and(|e| e.contains("contains")),
                "{bad:?}"
            );
        }
        assert_eq!(
            literal_path_error("/a\u{2028}").unwrap(),
            "contains U+2028; a path here holds only letters, digits and _-.$/~@:+& (CloudFront's path characters, no wildcards or quotes)"
        );
        assert_eq!(
            literal_path_error("api").unwrap(),
            "must be a path starting with /"
        );
    }
}
