//! The engine's building blocks, free of AWS calls so they can be tested
//! on their own: waiting (`wait`) and the dependency graph (`graph`).
//! Resource modules and the `up`/`down` commands build on these.

pub mod graph;
pub mod wait;
