//! One module per subcommand. Each takes resolved settings and the printer
//! and returns an exit status.

pub mod init;
pub mod package;
pub mod session;
pub mod up;
pub mod validate;
