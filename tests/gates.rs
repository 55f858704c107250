//! The gates and the merge lease, driven through the real binary against real git repositories and processes.
//!
//! One test binary per area keeps the suite quick to build: each binary links the library once.

// Unsafe code lives only in `portcullis-unsafe`; the tests use its safe functions.
#![forbid(unsafe_code)]

mod gate_outputs;

mod gate_all;
mod lease_cli;
mod lease_pg;
mod lease_pg_server;
mod lease_pg_stress;
mod lease_pg_suite;
mod lease_reclaim;
mod lease_stress;
mod merge_gate;
mod merge_gate_recovery;
mod merge_gate_report;
mod merge_gate_support;
mod security_common;
mod security_gate;
mod security_gate_content;
mod security_gate_deps;
mod stress_log;
