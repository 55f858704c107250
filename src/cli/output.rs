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

use std::path::Path;

use clap::ValueEnum;
use serde_json::{Value, json};

use crate::report::Verdict;

/// Schema id of the JSON object printed by `--format json`.
pub const GATE_OUTPUT_SCHEMA: &str = "portcullis/gate-output/v1";

/// Output format of the gates, `verdict` and `lease`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text (the default).
    #[default]
    Human,
    /// One JSON object on stdout (schema `portcullis/gate-output/v1`).
    Json,
}

/// The `--format json` object of a gate or `verdict` run.
pub fn verdict_json(
    command: &str,
    verdict: &Verdict,
    report_file: Option<&Path>,
    exit_code: i32,
) -> Value {
    let frontmatter = verdict
        .frontmatter
        .as_ref()
        .and_then(|fm| serde_json::to_value(fm).ok())
        .unwrap_or(Value::Null);
    json!({
        "schema": GATE_OUTPUT_SCHEMA,
        "command": command,
        "verdict": verdict.outcome.as_str(),
        "exit_code": exit_code,
        "report_file": report_file.map(|p| p.display().to_string()),
        "report_schema": if verdict.schema.is_empty() { Value::Null } else { Value::from(verdict.schema.clone()) },
        "reasons": verdict.reasons,
        "frontmatter": frontmatter,
    })
}

/// Print `value` as one line of JSON on stdout.
pub fn print_json(value: &Value) {
    println!("{value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_report_prints_fail_with_null_frontmatter() {
        let v = Verdict::fail("boom");
        let j = verdict_json("verdict", &v, Some(Path::new("/x/r.md")), 1);
        assert_eq!(j["schema"], GATE_OUTPUT_SCHEMA);
        assert_eq!(j["verdict"], "FAIL");
        assert_eq!(j["exit_code"], 1);
        assert_eq!(j["report_schema"], Value::Null);
        assert_eq!(j["frontmatter"], Value::Null);
        assert_eq!(j["reasons"][0], "boom");
    }
}
