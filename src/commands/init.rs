//! `ahi-edge init`: writes a commented profile from a template.

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;

use serde::Serialize;

use crate::cli::InitArgs;
use crate::error::{Error, ExitStatus};
use crate::names;
use crate::output::Printer;
use crate::profile::{self, INSECURE_HTTP_ACKNOWLEDGEMENT};
use crate::settings::Settings;
use crate::templates;

#[derive(Debug, Serialize)]
pub struct InitReport {
    pub profile: String,
    pub template: &'static str,
    pub stack: String,
    /// The template's origin is plain HTTP: the acknowledgement was left
    /// for the user to type.
    pub acknowledge_http: bool,
}

impl fmt::Display for InitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let http = match self.acknowledge_http {
            true => ", type the plain HTTP acknowledgement under [alb] or use protocol = \"https\"",
            false => "",
        };
        write!(
            f,
            "wrote {} (template {}, stack {})\nnext: edit the values marked EDIT{http}, then run `ahi-edge validate --profile {}`",
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
    // The written profile must pass `validate`, whatever the template, once
    // the user has typed what is theirs to type.
    let report = profile::check(path, &text);
    if report.profile.is_none() {
        return Err(Error::InvalidProfile {
            path: path.clone(),
            problems: report.problems,
        });
    }
    let (text, acknowledge_http) = leave_acknowledgement_to_user(&text);
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
        acknowledge_http,
    })?;
    Ok(ExitStatus::Success)
}

/// Plain HTTP between CloudFront and the ALB carries frames, metadata and
/// the origin secret unencrypted: a template never says yes for the user.
/// The shipped profile's acknowledgement line becomes a note saying where
/// the user's own goes (`validate` names the exact words until then).
fn leave_acknowledgement_to_user(text: &str) -> (String, bool) {
    let line = format!("insecure_http_acknowledgement = {INSECURE_HTTP_ACKNOWLEDGEMENT:?}\n");
    match text.contains(&line) {
        true => (text.replacen(&line, ACKNOWLEDGEMENT_NOTE, 1), true),
        false => (text.to_string(), false),
    }
}

/// What `init` writes where a template's HTTP acknowledgement was.
pub const ACKNOWLEDGEMENT_NOTE: &str = "\
# Plain HTTP needs your own acknowledgement here, as
#   insecure_http_acknowledgement = \"<the words `ahi-edge validate` prints>\"
# or protocol = \"https\" as above.
";

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::TemplateName;
    use clap::ValueEnum;

    #[test]
    fn no_template_is_written_with_the_http_acknowledgement() {
        for name in TemplateName::value_variants() {
            let shipped = templates::template(*name).text;
            let (written, left) = leave_acknowledgement_to_user(shipped);
            assert!(!written.contains(INSECURE_HTTP_ACKNOWLEDGEMENT), "{shipped}");
            assert_eq!(left, shipped.contains("protocol = \"http\"\n"), "{written}");
            assert_eq!(written.contains(ACKNOWLEDGEMENT_NOTE), left);
        }
    }
}
