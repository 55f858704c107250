//! Machine-readable output of the gates and `verdict`: `--format json` prints one JSON object
//! on stdout (schema `portcullis/gate-output/v1`, see `docs/schemas/gate-output-v1.schema.json`).
//!
//! ```json
//! {"schema": "portcullis/gate-output/v1", "command": "gate merge", "verdict": "PASS",
//!  "exit_code": 0, "report_file": "/repo/merge-report.md",
//!  "report_schema": "portcullis/merge-report/v1", "reasons": ["..."],
//!  "frontmatter": {"...": "the report's whole frontmatter"}}
//! ```
//!
//! The object is built from the verdict as read back from the report, so it says exactly what
//! the report file says; `frontmatter` is `null` when no report could be read.

use clap::ValueEnum;
use serde_json::Value;

pub use crate::report::verdict::verdict_json;

/// Output format of the gates, `verdict` and `lease`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text (the default).
    #[default]
    Human,
    /// One JSON object on stdout (schema `portcullis/gate-output/v1`).
    Json,
}

/// Print `value` as one line of JSON on stdout.
pub fn print_json(value: &Value) {
    println!("{value}");
}
