//! Report formats of `portcullis scan` and how they are chosen.

use std::path::Path;

use crate::report::Finding;

use super::sarif::SarifRule;

/// A scan report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// gitleaks JSON (array of findings).
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// gitleaks CSV.
    Csv,
    /// JUnit XML.
    Junit,
}

/// A `--report-format` value portcullis cannot write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportFormatError {
    /// gitleaks' Go-template reports.
    #[error("report format 'template' is not supported by portcullis")]
    Template,
    /// Not a format name at all (the value, trimmed and lower-cased).
    #[error("unknown report format '{0}' (expected json, sarif, csv or junit)")]
    Unknown(String),
}

impl ReportFormat {
    /// Parse a `--report-format` value (trimmed, case-insensitive, as gitleaks).
    pub fn parse(name: &str) -> Result<ReportFormat, ReportFormatError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(ReportFormat::Json),
            "sarif" => Ok(ReportFormat::Sarif),
            "csv" => Ok(ReportFormat::Csv),
            "junit" | "xml" => Ok(ReportFormat::Junit),
            "template" => Err(ReportFormatError::Template),
            other => Err(ReportFormatError::Unknown(other.to_string())),
        }
    }

    /// Choose the format: the explicit `--report-format` wins; otherwise the extension of
    /// `--report-path` (`.json`, `.sarif`, `.csv`, `.xml`/`.junit`); otherwise JSON.
    pub fn choose(
        explicit: Option<&str>,
        path: Option<&Path>,
    ) -> Result<ReportFormat, ReportFormatError> {
        if let Some(name) = explicit {
            return ReportFormat::parse(name);
        }
        let ext = path
            .and_then(|p| p.extension())
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        Ok(match ext.as_deref() {
            Some("sarif") => ReportFormat::Sarif,
            Some("csv") => ReportFormat::Csv,
            Some("xml") | Some("junit") => ReportFormat::Junit,
            _ => ReportFormat::Json,
        })
    }

    /// Render `findings` in this format; `rules` is only used by SARIF.
    pub fn render(self, findings: &[Finding], rules: &[SarifRule]) -> String {
        match self {
            ReportFormat::Json => super::json::render_json(findings),
            ReportFormat::Sarif => super::sarif::render_sarif(findings, rules),
            ReportFormat::Csv => super::csv::render_csv(findings),
            ReportFormat::Junit => super::junit::render_junit(findings),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_flag_or_extension() {
        assert_eq!(
            ReportFormat::choose(Some(" SARIF "), None),
            Ok(ReportFormat::Sarif)
        );
        assert_eq!(
            ReportFormat::choose(None, Some(Path::new("out/r.csv"))),
            Ok(ReportFormat::Csv)
        );
        assert_eq!(
            ReportFormat::choose(None, Some(Path::new("-"))),
            Ok(ReportFormat::Json)
        );
        assert!(ReportFormat::choose(Some("yaml"), None).is_err());
    }
}
