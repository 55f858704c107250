//! # portcullis
//!
//! A pure-Rust secret scanner, dependency auditor and fail-closed pre-merge gate.
//!
//! ## Brief overview
//!
//! Data flows in one direction:
//!
//! ```text
//! source (git | dir | stdin)  →  detect::Detector  →  finding::Finding  →  report writers  →  Verdict
//! ```
//!
//! * [`scan`] is the one-call front door: a [`scan::ScanRequest`] (directory, stdin, bytes or
//!   git; configuration discovery; `.gitleaksignore` and baselines) in, a [`scan::ScanReport`]
//!   out, exactly as `portcullis scan` computes it.
//! * [`finding`] holds the data passed between the stages: [`finding::Fragment`] (one input)
//!   and [`finding::Finding`] (one secret found).
//! * [`rules`] parses gitleaks v8 TOML configurations (with `[extend]`) and compiles them.
//! * [`detect`] scans one input: keyword prefilter, windowed regex verification, entropy,
//!   allowlists, decoding, `.gitleaksignore` and baselines.
//! * [`source`] is where bytes come from: git history (gix, blob-once), directories, stdin.
//! * [`audit`] parses lockfiles and matches them against RustSec / OSV advisories.
//! * [`report`] holds the report writers and the fail-closed verdict file reader/writer shared
//!   by both gates.
//! * [`gate`] composes everything into the security gate and the merge gate; [`lease`] is the
//!   crash-safe per-repository merge lease; [`settings`] reads `portcullis.toml`.
//! * The command-line front end is private: the binary's `main` only calls [`run_cli`].
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
//! ## Scan a directory as `portcullis scan dir` does
//!
//! ```no_run
//! let report = portcullis::scan::run(&portcullis::scan::ScanRequest::dir("."))?;
//! println!("{} findings, complete: {}", report.findings.len(), report.is_complete());
//! # Ok::<(), portcullis::scan::RunError>(())
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

// No unsafe code here: every unsafe operation (SIMD loops, process signals, memory advice,
// file maps) lives behind safe functions in the `portcullis-unsafe` crate.
#![forbid(unsafe_code)]

pub mod audit;
mod cli;
pub mod detect;
pub mod finding;
pub mod gate;
pub mod lease;
pub mod report;
pub mod rules;
pub mod scan;
pub mod settings;
pub mod source;

/// Run the `portcullis` command line with `args` (the first item is the program name) and
/// return the process exit status. The `portcullis` binary and the Python package's console
/// script are this one call; the command-line layer itself is private, so programs use the
/// library modules ([`scan`], [`gate`], [`audit`], ...) instead.
pub fn run_cli<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    cli::main_with(args)
}
