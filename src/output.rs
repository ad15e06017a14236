//! The printer: results to stdout, diagnostics and progress to stderr.
//!
//! Output mode is decided once, from the resolved settings, and every command
//! goes through this handle, so `--json`, `-q`, `-v` and `--no-progress`
//! behave the same everywhere.

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};

use serde::Serialize;

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
    Debug,
}

impl Verbosity {
    pub fn from_flags(verbose: u8, quiet: bool) -> Self {
        match (quiet, verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, 1) => Verbosity::Verbose,
            (false, _) => Verbosity::Debug,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Printer {
    json: bool,
    verbosity: Verbosity,
    progress: bool,
}

/// Turns off live progress bars, e.g. in tests and CI logs.
pub const NO_PROGRESS_ENV: &str = "AHI_EDGE_NO_PROGRESS";

impl Printer {
    pub fn new(json: bool, verbosity: Verbosity, no_progress: bool) -> Self {
        let progress =
            !no_progress && std::env::var_os(NO_PROGRESS_ENV).is_none() && io::stderr().is_terminal();
        Printer {
            json,
            verbosity,
            progress,
        }
    }

    pub fn json(&self) -> bool {
        self.json
    }

    /// `-q`: only results and errors.
    pub fn quiet(&self) -> bool {
        self.verbosity == Verbosity::Quiet
    }

    /// How the engine's progress shows for this run.
    pub fn progress(&self) -> crate::engine::progress::Shown {
        use crate::engine::progress::Shown;
        if self.quiet() {
            Shown::Nothing
        } else if self.live_progress() {
            Shown::Live
        } else {
            Shown::Plain
        }
    }

    /// Whether live progress bars may be drawn (a TTY, not turned off).
    /// Off a TTY, commands print one plain line per state change instead.
    pub fn live_progress(&self) -> bool {
        self.progress
    }

    /// The one result document of a command: JSON with `--json`, text otherwise.
    pub fn result<T: Display + Serialize>(&self, value: &T) -> Result<(), Error> {
        let text = if self.json {
            serde_json::to_string_pretty(value).map_err(|e| Error::io("encoding JSON output", e.into()))?
        } else {
            value.to_string()
        };
        write_stdout(&text)
    }

    /// A line for people on stderr; hidden by `-q`.
    pub fn info(&self, message: impl Display) {
        if self.verbosity >= Verbosity::Normal {
            eprintln!("{message}");
        }
    }

    /// Detail shown with `-v`.
    pub fn detail(&self, message: impl Display) {
        if self.verbosity >= Verbosity::Verbose {
            eprintln!("{message}");
        }
    }

    /// Warnings are shown even with `-q`: they are about the user's input.
    pub fn warn(&self, message: impl Display) {
        eprintln!("warning: {message}");
    }

    /// A profile problem (it names its own severity); shown even with `-q`.
    pub fn problem(&self, problem: &crate::profile::Problem) {
        eprintln!("{problem}");
    }

    /// Reports a failed command. With `--json`, stdout still gets one document
    /// so scripts can parse the outcome.
    pub fn error(&self, error: &Error) {
        eprintln!("error: {error}");
        if self.json {
            let doc = serde_json::json!({
                "error": { "message": error.to_string(), "exit_code": error.exit_status().code() }
            });
            // Best effort: the error itself is already on stderr.
            let _ = write_stdout(&doc.to_string());
        }
    }
}

/// Writes to stdout; a closed pipe (`ahi-edge ... | head`) is not an error.
fn write_stdout(text: &str) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    let written = writeln!(out, "{text}").and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::io("writing to stdout", e)),
        _ => Ok(()),
    }
}
