//! Integration tests: the real `ahi-edge` binary, run as a user would.
//! One test binary (modules below) so the crate links once.

mod bucket_grant;
mod cache_policy;
mod down;
mod edge_chain;
mod emulator;
mod emulator_harness;
mod function_injection;
mod iam_policy;
mod init;
mod kinds;
mod lock_contention;
mod operator;
mod origin_secret;
mod package;
mod preflight;
mod progress;
mod readable_errors;
mod registry;
mod rotate_origin_secret;
mod routes;
mod routes_validate;
mod secrets_in_output;
mod shared_cache;
mod shell;
mod signed;
mod stack;
mod state;
mod support;
mod trust_policy;
mod up;
mod validate;
mod viewer_cache_control;
