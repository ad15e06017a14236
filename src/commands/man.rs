//! `ahi-edge man [--out DIR]`: roff man pages from the clap definition: the
//! main page on stdout, or with `--out` the main page and one per
//! subcommand (`ahi-edge-up.1`, `ahi-edge-routes-test.1`, ...), the names
//! `man ahi-edge-up` looks for. Offline.

use std::path::Path;

use clap::CommandFactory;

use super::completions::write_stdout;
use crate::cli::Cli;
use crate::error::{Error, ExitStatus};
use crate::output::Printer;

pub fn run(printer: &Printer, out: Option<&Path>) -> Result<ExitStatus, Error> {
    let command = Cli::command();
    let Some(dir) = out else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .map_err(|e| Error::io("rendering the man page", e))?;
        return write_stdout(&page);
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    clap_mangen::generate_to(command, dir)
        .map_err(|e| Error::io(format!("writing man pages into {}", dir.display()), e))?;
    printer.info(format!(
        "wrote the man pages into {} (read one with: man -l {}/ahi-edge.1)",
        dir.display(),
        dir.display()
    ));
    Ok(ExitStatus::Success)
}
