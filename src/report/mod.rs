//! Findings, report writers and the verdict files of the gates.
//!
//! * [`Finding`] is the plain-data finding model (gitleaks field names).
//! * [`frontmatter`] writes Markdown reports with YAML frontmatter atomically and reads them
//!   back strictly; [`read_verdict`] is the fail-closed reader both gates and other programs use.
//! * [`redact`] is the last pass over every text a gate writes: no secret leaves raw or encoded.

pub mod finding;
pub mod frontmatter;
pub mod read;
pub mod redact;

pub mod schema_all;
pub mod schema_merge;
pub mod schema_security;
pub mod verdict;

pub use finding::{Confidence, Finding};
pub use read::{read_verdict, read_verdict_for_head, report_head};
pub use verdict::{GateOutcome, GateVerdict, Outcome, Verdict};

// Scan report writers (scanio).
pub mod csv;
pub mod format;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod summary;
