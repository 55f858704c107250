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
//!
//! ## Scan a string with the embedded default rules
//!
//! ```
//! use portcullis::detect::{DetectOptions, Detector, Fragment};
//! use portcullis::rules::Config;
//!
//! let detector = Detector::new(Config::embedded_default(), DetectOptions::default()).unwrap();
//! // A fake GitHub token, assembled at run time so this file holds no literal token.
//! let text = format!("GITHUB_TOKEN={}{}\n", "ghp_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5");
//! let mut findings = Vec::new();
//! detector.scan(
//!     &Fragment { text: text.as_bytes(), path: "ci.env", start_line: 1, ..Fragment::default() },
//!     &mut findings,
//! );
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].rule_id, "github-pat");
//! assert_eq!((findings[0].file.as_str(), findings[0].start_line), ("ci.env", 1));
//! ```
//!
//! ## Run the security gate on a branch
//!
//! ```no_run
//! use portcullis::gate::security::{security, SecurityRequest};
//!
//! let mut req = SecurityRequest::new("/path/to/worktree");
//! req.base = "origin/main".into();
//! let verdict = security(&req); // writes security-report.md, then reads it back
//! if !verdict.is_pass() {
//!     eprintln!("blocked: {:?}", verdict.reasons);
//! }
//! ```
//!
//! Other programs read a gate's verdict with [`report::read_verdict`], which fails closed.

// Every module that needs unsafe code says so with `#[expect(unsafe_code, reason = …)]`.
#![deny(unsafe_code)]

pub mod audit;
pub mod cli;
pub mod detect;
pub mod gate;
pub mod lease;
pub mod report;
pub mod rules;
pub mod settings;
pub mod source;
