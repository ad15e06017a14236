//! Problems found in a profile, with the place they were found.
//!
//! Every problem names `file:line:col`, the key path, the offending value and
//! a fix, so a user can correct a profile in one pass.

use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub severity: Severity,
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Dotted key path, e.g. `auth.cognito.user_pool_id`.
    pub key: String,
    /// The offending value as written in TOML, when there is one.
    pub value: Option<String>,
    pub message: String,
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {severity}: {}",
            self.file, self.line, self.column, self.key
        )?;
        if let Some(value) = &self.value {
            write!(f, " = {value}")?;
        }
        write!(f, ": {}\n    fix: {}", self.message, self.fix)
    }
}

/// A value read from the profile, with where it came from.
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: T,
    pub key: String,
    pub span: Range<usize>,
    /// The value as written, for messages.
    pub raw: String,
}

/// Where a key is missing: the table that should hold it.
#[derive(Debug, Clone)]
pub struct Place {
    pub key: String,
    pub span: Range<usize>,
}

/// Collects problems while a profile is read; turns byte offsets into
/// 1-based line and column numbers.
pub struct Diagnostics<'s> {
    file: String,
    text: &'s str,
    problems: Vec<Problem>,
}

impl<'s> Diagnostics<'s> {
    pub fn new(path: &Path, text: &'s str) -> Self {
        Diagnostics {
            file: path.display().to_string(),
            text,
            problems: Vec::new(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = self.text[line_start..offset].chars().count() + 1;
        (line, column)
    }

    pub fn push(
        &mut self,
        severity: Severity,
        key: &str,
        span: &Range<usize>,
        value: Option<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        let (line, column) = self.position(span.start);
        self.problems.push(Problem {
            severity,
            file: self.file.clone(),
            line,
            column,
            key: key.to_string(),
            value,
            message: message.into(),
            fix: fix.into(),
        });
    }

    /// An error about a value that is present.
    pub fn error<T>(&mut self, at: &Located<T>, message: impl Into<String>, fix: impl Into<String>) {
        self.push(
            Severity::Error,
            &at.key,
            &at.span,
            Some(at.raw.clone()),
            message,
            fix,
        );
    }

    pub fn warning<T>(&mut self, at: &Located<T>, message: impl Into<String>, fix: impl Into<String>) {
        self.push(
            Severity::Warning,
            &at.key,
            &at.span,
            Some(at.raw.clone()),
            message,
            fix,
        );
    }

    /// An error about a key that should be present in `place` but is not.
    pub fn missing(&mut self, place: &Place, name: &str, message: impl Into<String>, fix: impl Into<String>) {
        let key = join(&place.key, name);
        self.push(Severity::Error, &key, &place.span, None, message, fix);
    }

    pub fn error_count(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count()
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// Problems in file order, so the report reads top to bottom.
    pub fn into_problems(mut self) -> Vec<Problem> {
        self.problems.sort_by_key(|p| (p.line, p.column));
        self.problems
    }
}

pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}
