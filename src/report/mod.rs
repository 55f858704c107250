//! Findings, report writers and the verdict files of the gates.
//!
//! * [`Finding`] is the plain-data finding model (gitleaks field names).
//! * [`frontmatter`] writes Markdown reports with YAML frontmatter atomically and reads them
//!   back strictly; [`read_verdict`] is the fail-closed reader both gates and other programs use.

pub mod finding;
pub mod frontmatter;
pub mod schema_merge;
pub mod schema_security;
pub mod verdict;

pub use finding::{Confidence, Finding};
pub use verdict::{Outcome, Verdict, read_verdict};

// Scan report writers (scanio).
pub mod csv;
pub mod format;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod summary;
