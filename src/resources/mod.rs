//! One module per AWS resource kind, each with the same small surface
//! (after terraform-provider-aws): a desired spec derived from the profile
//! (plain data, no SDK calls), `find` (by the id the lockfile recorded, else
//! by the deterministic name, so a run that died mid-create adopts what it
//! made), `ensure` (create, or update only when live differs from desired:
//! an unchanged resource costs no write call), and `delete` (NotFound counts
//! as done, so teardown is always safe to re-run).

pub mod cache_policy;

/// What `ensure` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}
