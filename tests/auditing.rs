//! Dependency audit: lockfile parsers, advisory matching, cargo-audit parity, offline and online sources.
//!
//! One test binary per area keeps the suite quick to build: each binary links the library once.

// Unsafe code lives only in `portcullis-unsafe`; the tests use its safe functions.
#![forbid(unsafe_code)]

mod audit_cargo_parity;
mod audit_coverage;
mod audit_db_update;
mod audit_directory_mode;
mod audit_lockfiles;
mod audit_online;
mod audit_python;
mod audit_range;
mod audit_sources;
mod audit_support;
