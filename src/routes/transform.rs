//! What a route changes in the request before CloudFront picks the cache
//! key and calls the origin: strip a path prefix, fall back to the SPA's
//! index. CloudFront cannot do either by configuration, so each distinct
//! transform becomes one small CloudFront Function (viewer-request), and
//! [`Transform::apply`] is the Rust twin the route evaluator uses. The
//! test suite runs every generated function under node and compares.

use serde::Serialize;

/// The runtime every generated function uses.
pub const RUNTIME: &str = "cloudfront-js-2.0";

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Transform {
    /// A literal prefix removed from the URI (`/api` makes `/api/users`
    /// `/users`); the result always starts with `/`.
    pub strip_prefix: Option<String>,
    /// The SPA's index document: a GET or HEAD whose last path segment has
    /// no `.` (a client-side route, not a file) is served this URI.
    pub spa_index: Option<String>,
}

impl Transform {
    pub fn is_identity(&self) -> bool {
        self.strip_prefix.is_none() && self.spa_index.is_none()
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

    /// What it does, in a few words (function comments, `routes test`).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.strip_prefix {
            parts.push(format!("strip {p}"));
        }
        if let Some(i) = &self.spa_index {
            parts.push(format!("SPA fallback {i}"));
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
        format!(
            "// ahi-edge route transform: {}\nfunction handler(event) {{\n  var request = event.request;\n  var uri = request.uri;\n{body}  request.uri = uri;\n  return request;\n}}\n",
            self.describe()
        )
    }
}

/// A JSON string literal is a valid JavaScript string literal.
fn js_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(strip: Option<&str>, spa: Option<&str>) -> Transform {
        Transform {
            strip_prefix: strip.map(str::to_string),
            spa_index: spa.map(str::to_string),
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
}
