//! Output: the JSON schema (serde of [`AuditReport`]), SARIF 2.1.0, and the human table.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{AuditReport, AuditStatus};

mod sarif_lines;

/// `--format json`.
pub fn to_json(report: &AuditReport) -> String {
    serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"status\":\"error\",\"error\":\"{e}\"}}"))
}

fn sarif_level(f: &super::AuditFinding) -> &'static str {
    if !f.blocking {
        "warning"
    } else {
        match f.severity.as_deref() {
            Some("low") | Some("none") => "warning",
            _ => "error",
        }
    }
}

/// `--format sarif` with default locations: lockfile paths relative to the current directory.
pub fn to_sarif(report: &AuditReport) -> String {
    to_sarif_at(report, std::path::Path::new("."))
}

/// `--format sarif`: one rule per advisory id (with GitHub's numeric `security-severity` when
/// the advisory has a severity), one result per finding located at the lockfile line that
/// locks the package, URIs relative to `%SRCROOT%` (the git work tree holding `audited`, else
/// the audited directory) and a stable `auditFinding/v1` fingerprint. `audited` is the path
/// the audit was run on (the directory or lockfile; in range mode, the repository).
pub fn to_sarif_at(report: &AuditReport, audited: &std::path::Path) -> String {
    use crate::report::sarif::{SRCROOT, relative_path, sarif_uri, source_root};
    let root = source_root(audited);
    let mut rules: Vec<Value> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for f in &report.findings {
        if seen.insert(f.id.clone()) {
            let text = if f.summary.is_empty() {
                &f.id
            } else {
                &f.summary
            };
            let mut rule = json!({
                "id": f.id,
                "name": f.kind.as_str(),
                "shortDescription": {"text": text},
                "properties": {"aliases": f.aliases, "kind": f.kind.as_str(),
                               "tags": ["security", "dependency", f.kind.as_str()]},
            });
            if let Some(u) = f.url.as_deref().filter(|u| !u.is_empty()) {
                rule["helpUri"] = json!(u);
            }
            if let Some(s) = &f.severity {
                rule["properties"]["severity"] = json!(s);
                if let Some(score) = sarif_lines::security_severity(s) {
                    rule["properties"]["security-severity"] = json!(score);
                }
            }
            rules.push(rule);
        }
    }
    let mut texts = sarif_lines::LockfileTexts::default();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let fix = f
                .fixed_in
                .as_deref()
                .map(|v| format!("; fixed in {v}"))
                .unwrap_or_else(|| "; no fixed version".into());
            let on_disk = if audited.is_dir() {
                audited.join(&f.lockfile)
            } else {
                std::path::PathBuf::from(&f.lockfile)
            };
            let path = relative_path(&on_disk.to_string_lossy(), Some(&root));
            let mut physical = json!({"artifactLocation": {"uri": sarif_uri(&path), "uriBaseId": SRCROOT}});
            if let Some(line) = texts.package_line(&on_disk, &f.package, &f.version) {
                physical["region"] = json!({"startLine": line});
            }
            let mut result = json!({
                "ruleId": f.id,
                "level": sarif_level(f),
                "message": {"text": format!("{} {} ({}): {}{}", f.package, f.version, f.ecosystem.as_str(), f.summary, fix)},
                "locations": [{"physicalLocation": physical}],
                "partialFingerprints": {"auditFinding/v1": sarif_lines::fingerprint(f, &path)},
                "properties": {"package": f.package, "version": f.version, "ecosystem": f.ecosystem.as_str(),
                               "fixed_in": f.fixed_in, "kind": f.kind.as_str(), "blocking": f.blocking},
            });
            if let Some(s) = &f.severity {
                result["properties"]["severity"] = json!(s);
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": crate::report::sarif::SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "portcullis-audit",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "originalUriBaseIds": {SRCROOT: {"description": {"text": "The top of the git work tree holding the audited path, else the audited directory."}}},
            "results": results,
            "invocations": [{
                "executionSuccessful": report.status != AuditStatus::Error,
                "toolExecutionNotifications": report.not_audited.iter().map(|n| json!({
                    "level": "warning",
                    "message": {"text": format!("{}: not audited: {}", n.path, n.reason)},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": n.path}}}],
                })).collect::<Vec<_>>(),
            }],
            "properties": {"status": report.status, "sources": report.sources,
                           "not_audited": report.not_audited},
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The readable table (printed on stderr by the CLI).
pub fn to_table(report: &AuditReport) -> String {
    let mut out = String::new();
    for w in &report.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    for s in &report.sources {
        let state = if !s.ok {
            "FAILED"
        } else if s.stale {
            "OUT OF DATE"
        } else {
            "ok"
        };
        let _ = writeln!(
            out,
            "source: {} [{}] {} date={} commit={} {}",
            s.name,
            s.kind,
            s.location,
            s.date.as_deref().unwrap_or("unknown"),
            s.commit
                .as_deref()
                .map(|c| c.chars().take(12).collect::<String>())
                .unwrap_or_else(|| "-".into()),
            state
        );
    }
    let pkgs: usize = report.lockfiles.iter().map(|l| l.packages).sum();
    let _ = writeln!(
        out,
        "audited {} lockfile(s), {pkgs} package(s)",
        report.lockfiles.len()
    );
    for n in &report.not_audited {
        let _ = writeln!(out, "NOT AUDITED: {}: {}", n.path, n.reason);
    }
    if !report.findings.is_empty() {
        let rows: Vec<[String; 7]> = report
            .findings
            .iter()
            .map(|f| {
                [
                    if f.blocking {
                        f.kind.as_str().to_string()
                    } else {
                        format!("{} (warn)", f.kind.as_str())
                    },
                    f.id.clone(),
                    format!("{} {}", f.package, f.version),
                    f.fixed_in.clone().unwrap_or_else(|| "-".into()),
                    f.severity.clone().unwrap_or_else(|| "-".into()),
                    f.lockfile.clone(),
                    truncate(&f.summary, 60),
                ]
            })
            .collect();
        let head = [
            "KIND", "ID", "PACKAGE", "FIXED", "SEVERITY", "LOCKFILE", "SUMMARY",
        ];
        let mut widths = head.map(str::len);
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r.iter()) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let mut l = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    l.push_str(c);
                } else {
                    let pad = widths[i].saturating_sub(c.chars().count());
                    l.push_str(c);
                    l.push_str(&" ".repeat(pad + 2));
                }
            }
            l
        };
        let _ = writeln!(out, "{}", line(head.to_vec()));
        for r in &rows {
            let _ = writeln!(out, "{}", line(r.iter().map(String::as_str).collect()));
        }
    }
    let vulns = report
        .findings
        .iter()
        .filter(|f| f.kind == super::FindingKind::Vulnerability)
        .count();
    let warns = report.findings.len() - vulns;
    let status = match report.status {
        AuditStatus::Ok => "ok",
        AuditStatus::Degraded => {
            "DEGRADED (an advisory source could not be used or is out of date, or a lockfile was not audited)"
        }
        AuditStatus::Error => "ERROR",
    };
    let _ = writeln!(
        out,
        "{vulns} vulnerabilit{}, {warns} warning(s); status {status}",
        if vulns == 1 { "y" } else { "ies" }
    );
    out
}
