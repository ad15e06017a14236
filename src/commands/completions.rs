//! `ahi-edge completions SHELL`: the shell's completion script on stdout,
//! generated from the same clap definition the binary parses with, so it
//! can never offer a flag the binary refuses. Offline.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::{Error, ExitStatus};

pub fn run(shell: Shell) -> Result<ExitStatus, Error> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut script);
    if shell == Shell::Bash {
        script = bash_case_labels(&script);
    }
    write_stdout(&script)
}

const BIN: &str = "ahi-edge";

/// clap_complete 4.6.12 names the bash states of a hyphenated binary two
/// ways: `ahi__edge__subcmd__down` where it sets the state and
/// `ahi__subcmd__edge__subcmd__down` in the `case` that reads it, so no
/// subcommand's flags would ever complete. One spelling, the one it sets.
fn bash_case_labels(script: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(script);
    let (set, read) = (BIN.replace('-', "__"), BIN.replace('-', "__subcmd__"));
    text.replace(&format!("{read})"), &format!("{set})"))
        .replace(&format!("{read}__subcmd__"), &format!("{set}__subcmd__"))
        .into_bytes()
}

/// Writes bytes to stdout; a closed pipe (`| head`) is not a failure.
pub(super) fn write_stdout(bytes: &[u8]) -> Result<ExitStatus, Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(ExitStatus::Success),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitStatus::Success),
        Err(e) => Err(Error::io("writing to stdout", e)),
    }
}
