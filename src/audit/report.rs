//! Output: the JSON schema (serde of [`AuditReport`]), SARIF 2.1.0, and the human table.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{AuditReport, AuditStatus};

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

/// `--format sarif`: one rule per advisory id, one result per finding located at the lockfile.
pub fn to_sarif(report: &AuditReport) -> String {
    let mut rules: Vec<Value> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for f in &report.findings {
        if seen.insert(f.id.clone()) {
            let mut rule = json!({
                "id": f.id,
                "name": f.kind.as_str(),
                "shortDescription": {"text": f.summary},
                "properties": {"aliases": f.aliases, "kind": f.kind.as_str()},
            });
            if let Some(u) = &f.url {
                rule["helpUri"] = json!(u);
            }
            if let Some(s) = &f.severity {
                rule["properties"]["severity"] = json!(s);
            }
            rules.push(rule);
        }
    }
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let fix = f
                .fixed_in
                .as_deref()
                .map(|v| format!("; fixed in {v}"))
                .unwrap_or_else(|| "; no fixed version".into());
            json!({
                "ruleId": f.id,
                "level": sarif_level(f),
                "message": {"text": format!("{} {} ({}): {}{}", f.package, f.version, f.ecosystem.as_str(), f.summary, fix)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": f.lockfile}}}],
                "properties": {"package": f.package, "version": f.version, "ecosystem": f.ecosystem.as_str(),
                               "fixed_in": f.fixed_in, "kind": f.kind.as_str(), "blocking": f.blocking},
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "portcullis-audit",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/portcullis",
                "rules": rules,
            }},
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
