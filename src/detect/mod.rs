//! Scanning one input: keyword prefilter, windowed regex verification, entropy, allowlists,
//! decoding, `gitleaks:allow`, `.gitleaksignore` and baselines.
//!
//! The detector does not know where its bytes come from: every source (git hunks, files,
//! archive members, stdin) hands it a [`Fragment`].
//!
//! Pipeline per fragment (gitleaks 8.30 order): global commit/path allowlists → decode loop
//! (pass 0 = raw text) → per pass, one Aho-Corasick scan for all keywords → per triggered rule:
//! skipReport / rule commit-path allowlists / path gate / size gate → regex matches (searched
//! only in windows around keyword hits when that is provably exact, see `plan`) → location,
//! `gitleaks:allow`, secret group, entropy, finding-level allowlists → composite rules →
//! generic-rule dedup → secret fingerprint → redaction → fingerprint.

mod compiled;
mod decode;
mod engine;
mod entropy;
mod filter;
pub mod ignore;
mod keywords;
mod location;
mod plan;
mod relax;
mod utf8;
mod verify;

pub use crate::rules::Verification;
pub use engine::Detector;
#[cfg(any(test, feature = "testing"))]
pub use engine::{WindowedComparison, any_match_vs_full, windowed_vs_full};
pub use entropy::shannon_entropy;
pub use filter::redact_finding;
pub use ignore::Suppressions;
pub use verify::confidence_of;

/// The input type, re-exported from its leaf module [`crate::finding`].
pub use crate::finding::Fragment;

/// Detection options (the scan flags that change what the detector reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectOptions {
    /// `--max-decode-depth` (default 5; 0 = no decoding).
    pub max_decode_depth: u32,
    /// `--max-target-megabytes`: regex rules skip a text longer than N·1,000,000 bytes
    /// (integer division, as gitleaks); path-only rules still apply.
    pub max_target_megabytes: Option<u64>,
    /// `--ignore-gitleaks-allow`.
    pub ignore_gitleaks_allow: bool,
    /// `--redact[=PCT]`: `None` or `Some(0)` = off, `Some(100)` = "REDACTED".
    pub redact: Option<u8>,
    /// `--enable-rule`: only these rule ids run (empty = all). An unknown id is an error.
    pub enable_rules: Vec<String>,
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            max_decode_depth: 5,
            max_target_megabytes: None,
            ignore_gitleaks_allow: false,
            redact: None,
            enable_rules: Vec::new(),
        }
    }
}
