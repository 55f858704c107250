//! # portcullis
//!
//! A pure-Rust secret scanner, dependency auditor and fail-closed pre-merge gate.
//!
//! ## Brief overview
//!
//! Data flows in one direction:
//!
//! ```text
//! source (git | dir | stdin)  →  detect::Detector  →  report::Finding  →  report writers  →  Verdict
//! ```
//!
//! * [`rules`] parses gitleaks v8 TOML configurations (with `[extend]`) and compiles them.
//! * [`detect`] scans one input: keyword prefilter, windowed regex verification, entropy,
//!   allowlists, decoding, `.gitleaksignore` and baselines.
//! * [`source`] is where bytes come from: git history (gix, blob-once), directories, stdin.
//! * [`audit`] parses lockfiles and matches them against RustSec / OSV advisories.
//! * [`report`] holds the finding model, report writers and the fail-closed verdict file
//!   reader/writer shared by both gates.
//! * [`gate`] composes everything into the security gate and the merge gate; [`lease`] is the
//!   crash-safe per-repository merge lease; [`settings`] reads `portcullis.toml`.
//! * [`cli`] is the command-line front end (the binary's `main` only calls [`cli::main`]).

pub mod audit;
pub mod cli;
pub mod detect;
pub mod gate;
pub mod lease;
pub mod report;
pub mod rules;
pub mod settings;
pub mod source;
