//! One module per subcommand. Each takes resolved settings and the printer
//! and returns an exit status.

pub mod completions;
pub mod down;
pub mod iam_policy;
pub mod init;
pub mod invalidate;
pub mod man;
pub mod outcome;
pub mod outputs;
pub mod package;
pub mod plan;
pub mod rotate_origin_secret;
pub mod routes;
pub mod session;
pub mod sign;
pub mod state;
pub mod status;
pub mod up;
pub mod validate;
