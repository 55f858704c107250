//! The short human summary `portcullis scan` prints on stderr.
//!
//! Colour is used only when stderr is a terminal, `NO_COLOR` is unset (or empty) and
//! `--no-color` was not given. The summary never contains a secret.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::time::Duration;

use crate::report::Finding;

/// Figures for the summary line.
#[derive(Debug, Clone, Default)]
pub struct ScanSummary {
    /// What was scanned, e.g. `directory repo` or `stdin`.
    pub target: String,
    /// Number of files (or archive members, or commits) scanned.
    pub items_scanned: u64,
    /// What `items_scanned` counts (`files`, `commits`).
    pub item_noun: String,
    /// Bytes scanned.
    pub bytes_scanned: u64,
    /// Wall time of the scan.
    pub elapsed: Duration,
    /// Where the report went, if anywhere.
    pub report_path: Option<String>,
    /// Number of scan errors.
    pub errors: usize,
}

/// Rule ids named in the summary line before the rest are only counted.
pub const MAX_RULES_LISTED: usize = 8;

/// Whether the summary should use ANSI colour.
pub fn use_color(no_color_flag: bool) -> bool {
    if no_color_flag {
        return false;
    }
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    std::io::stderr().is_terminal()
}

/// Bytes in decimal units with one decimal ("1.5 MB"), as the summary and the progress bar show them.
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Render the summary lines (without colour when `color` is false).
pub fn render_summary(s: &ScanSummary, findings: &[Finding], color: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut out = format!(
        "portcullis: scanned {} {} ({}) of {} in {:.2}s\n",
        s.items_scanned,
        s.item_noun,
        human_bytes(s.bytes_scanned),
        s.target,
        s.elapsed.as_secs_f64()
    );
    if findings.is_empty() {
        out.push_str(&format!("portcullis: {}\n", paint("32", "no leaks found")));
    } else {
        let rules: BTreeSet<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
        let files: BTreeSet<&str> = findings.iter().map(|f| f.file.as_str()).collect();
        let noun = if findings.len() == 1 { "leak" } else { "leaks" };
        let mut rule_list = rules
            .iter()
            .take(MAX_RULES_LISTED)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if rules.len() > MAX_RULES_LISTED {
            rule_list.push_str(&format!(" and {} more", rules.len() - MAX_RULES_LISTED));
        }
        out.push_str(&format!(
            "portcullis: {} in {} file(s), rules: {rule_list}\n",
            paint("1;31", &format!("{} {noun} found", findings.len())),
            files.len(),
        ));
    }
    if s.errors > 0 {
        out.push_str(&format!(
            "portcullis: {}\n",
            paint(
                "1;31",
                &format!("{} error(s): the scan is incomplete", s.errors)
            )
        ));
    }
    if let Some(p) = &s.report_path {
        out.push_str(&format!("portcullis: report written to {p}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_without_colour() {
        let s = ScanSummary {
            target: "directory x".into(),
            items_scanned: 3,
            item_noun: "files".into(),
            bytes_scanned: 2500,
            ..ScanSummary::default()
        };
        let f = Finding {
            rule_id: "r1".into(),
            file: "a".into(),
            secret: "topsecret".into(),
            ..Finding::default()
        };
        let text = render_summary(&s, &[f.clone(), f], false);
        assert!(text.contains("scanned 3 files (2.5 KB)"));
        assert!(text.contains("2 leaks found in 1 file(s), rules: r1"));
        assert!(!text.contains('\x1b'));
        assert!(!text.contains("topsecret"));
        assert!(render_summary(&s, &[], true).contains("\x1b[32mno leaks found"));
    }
}
