//! Integration tests: the real `ahi-edge` binary, run as a user would.
//! One test binary (modules below) so the crate links once.

mod cache_policy;
mod down;
mod edge_chain;
mod emulator;
mod emulator_harness;
mod iam_policy;
mod init;
mod kinds;
mod lock_contention;
mod origin_secret;
mod package;
mod progress;
mod readable_errors;
mod registry;
mod routes;
mod routes_validate;
mod shared_cache;
mod signed;
mod stack;
mod state;
mod support;
mod up;
mod validate;
