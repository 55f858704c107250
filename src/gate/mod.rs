//! The gates: the security gate (secrets + dependency audit of a branch) and the merge gate
//! (catch up, re-test, serialise merges under a lease).

pub mod merge;
pub mod security;

pub use merge::{MergeRequest, merge};
pub use security::security;
