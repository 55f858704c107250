//! The gates: the security gate (secrets + dependency audit of a branch) and the merge gate
//! (catch up, re-test, serialise merges under a lease).

pub mod all;
pub mod merge;
pub mod security;

pub use all::{AllRequest, all};
pub use merge::{MergeRequest, SecurityCheck, merge};
pub use security::security;
