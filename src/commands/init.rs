//! `ahi-edge init`: writes a commented profile from a template.

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;

use serde::Serialize;

use crate::cli::InitArgs;
use crate::error::{Error, ExitStatus};
use crate::names;
use crate::output::Printer;
use crate::profile;
use crate::settings::Settings;
use crate::templates;

#[derive(Debug, Serialize)]
pub struct InitReport {
    pub profile: String,
    pub template: &'static str,
    pub stack: String,
}

impl fmt::Display for InitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wrote {} (template {}, stack {})\nnext: edit the values marked EDIT, then run `ahi-edge validate --profile {}`",
            self.profile, self.template, self.stack, self.profile
        )
    }
}

pub fn run(settings: &Settings, printer: &Printer, args: &InitArgs) -> Result<ExitStatus, Error> {
    let template = templates::template(args.template);
    let path = &settings.profile;
    let mut text = template.text.to_string();
    let mut stack = template.stack_name.to_string();
    if let Some(name) = &args.stack_name {
        check_stack_name(name)?;
        let from = format!("name = \"{}\"", template.stack_name);
        text = text.replacen(&from, &format!("name = \"{name}\""), 1);
        stack = name.clone();
    }
    // The header's "check this file with" names the file really written.
    text = text.replacen(
        &format!("ahi-edge validate --profile {}.toml", template.name),
        &format!("ahi-edge validate --profile {}", path.display()),
        1,
    );
    // The written profile must pass `validate`, whatever the template.
    let report = profile::check(path, &text);
    if report.profile.is_none() {
        return Err(Error::InvalidProfile {
            path: path.clone(),
            problems: report.problems,
        });
    }
    let mut options = OpenOptions::new();
    options.write(true);
    if args.force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => Error::Refused {
            path: path.clone(),
            reason: "already exists; init does not overwrite a profile".into(),
            fix: "pass --force to overwrite it, or --profile NEW_FILE".into(),
        },
        _ => Error::io(format!("writing profile {}", path.display()), e),
    })?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::io(format!("writing profile {}", path.display()), e))?;
    printer.result(&InitReport {
        profile: path.display().to_string(),
        template: template.name,
        stack,
    })?;
    Ok(ExitStatus::Success)
}

fn check_stack_name(name: &str) -> Result<(), Error> {
    let max = profile::formats::HEALTHIMAGING_REGIONS
        .iter()
        .map(|r| names::max_stack_name_len(r))
        .min()
        .unwrap_or(0);
    let reason = match names::check_stack_name_chars(name) {
        Err(reason) => Some(reason),
        Ok(()) if name.len() > max => Some(format!(
            "is {} characters; at most {max} fit every AWS name limit",
            name.len()
        )),
        Ok(()) => None,
    };
    match reason {
        Some(reason) => Err(Error::BadFlag {
            flag: "--stack-name",
            value: name.to_string(),
            reason,
            fix: "choose a name such as ahi-prod".into(),
        }),
        None => Ok(()),
    }
}
