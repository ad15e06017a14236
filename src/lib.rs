//! ahi-edge: provisions, reports on and tears down a CloudFront edge stack
//! for AWS HealthImaging by calling AWS APIs directly.

pub mod authorizer;
pub mod aws;
pub mod call_log;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod error;
pub mod iam_policy;
pub mod kinds;
pub mod lockfile;
pub mod names;
pub mod output;
pub mod profile;
pub mod resources;
pub mod routes;
pub mod settings;
pub mod signing;
pub mod stack;
pub mod state;
pub mod templates;

use cli::{Cli, Command, PackageTarget, RoutesAction, StateAction};
use error::ExitStatus;
use settings::Settings;

/// Runs one command to completion and returns its exit status.
pub fn run(cli: Cli) -> ExitStatus {
    let printer = Settings::printer(&cli.global);
    if !cli.global.quiet {
        call_log::init(cli.global.verbose);
    }
    let outcome = Settings::resolve(&cli.global).and_then(|settings| match &cli.command {
        Command::Init(args) => commands::init::run(&settings, &printer, args),
        Command::Validate => commands::validate::run(&settings, &printer),
        Command::Package(args) => match &args.target {
            PackageTarget::Authorizer { out } => commands::package::authorizer(&settings, &printer, out),
        },
        Command::Up(args) => commands::up::run(&settings, &printer, args),
        Command::Status => commands::status::run(&settings, &printer),
        Command::Outputs => commands::outputs::run(&settings, &printer),
        Command::Down(args) => commands::down::run(&settings, &printer, args),
        Command::Plan => commands::plan::run(&settings, &printer),
        Command::IamPolicy(args) => commands::iam_policy::run(&settings, &printer, args),
        Command::Routes(args) => match &args.action {
            RoutesAction::Show => commands::routes::show(&settings, &printer),
            RoutesAction::Test { requests } => commands::routes::test(&settings, &printer, requests),
        },
        Command::Sign(args) => commands::sign::run(&settings, &printer, args),
        Command::Invalidate(args) => commands::invalidate::run(&settings, &printer, args),
        Command::RotateOriginSecret => commands::rotate_origin_secret::run(&settings, &printer),
        Command::Completions { shell } => commands::completions::run(*shell),
        Command::Man { out } => commands::man::run(&printer, out.as_deref()),
        Command::State(args) => match &args.action {
            StateAction::Show => commands::state::show(&settings, &printer),
            StateAction::Pull { to, force } => commands::state::pull(&settings, &printer, to, *force),
            StateAction::Push { to, force } => commands::state::push(&settings, &printer, to, *force),
            StateAction::Unlock { lock_id } => commands::state::unlock(&settings, &printer, lock_id),
        },
    });
    match outcome {
        Ok(status) => status,
        Err(error) => {
            printer.error(&error);
            error.exit_status()
        }
    }
}
