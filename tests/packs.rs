//! The whole-pack passes forced on through the environment (kept apart: it sets a process-wide variable).
//!
//! One test binary per area keeps the suite quick to build: each binary links the library once.

// Unsafe code lives only in `portcullis-unsafe`; the tests use its safe functions.
#![forbid(unsafe_code)]

mod git_common;
mod git_packed;
