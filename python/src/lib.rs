//! `portcullis._portcullis`: the extension module behind the `portcullis` Python package.
//!
//! Every function takes its options as one JSON object (built by the Python layer from keyword
//! arguments) and returns JSON text, which the Python layer turns into typed objects. The gates
//! run in-process through the library with the GIL released; they never raise: bad options,
//! errors and panics all come back as a FAIL verdict.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use portcullis::report::verdict::verdict_json;
use portcullis::gate::all::{AllRequest, all};
use portcullis::gate::merge::{MergeRequest, SecurityCheck, merge};
use portcullis::gate::security::{AuditInputs, SecurityRequest, report_path, security};
use portcullis::report::{Outcome, Verdict, read_verdict};

/// Options of the security gate (keyword arguments of `security_gate`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SecurityOpts {
    repo: Option<PathBuf>,
    base: Option<String>,
    head: Option<String>,
    report_file: Option<PathBuf>,
    settings: Option<PathBuf>,
    config: Option<PathBuf>,
    ignore_files: Vec<PathBuf>,
    dbs: Vec<PathBuf>,
    online: bool,
    osv_url: Option<String>,
    ignore_advisories: Vec<String>,
    audit_exclude: Vec<String>,
    dep_audit_fail_closed: Option<bool>,
    timeout_s: Option<u64>,
}

/// Options of the merge gate and `gate_all` (keyword arguments of `merge_gate` / `gate_all`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct MergeOpts {
    repo: Option<PathBuf>,
    branch: Option<String>,
    holder: Option<String>,
    test: Option<String>,
    main: Option<String>,
    remote: Option<String>,
    test_timeout_s: Option<u64>,
    worktree: Option<PathBuf>,
    lease_dir: Option<PathBuf>,
    lease_url: Option<String>,
    ttl_s: Option<u64>,
    report_file: Option<PathBuf>,
    settings: Option<PathBuf>,
    security_report: Option<PathBuf>,
    no_security: bool,
    // gate_all only
    land: bool,
    max_attempts: Option<u32>,
    merge_report: Option<PathBuf>,
    config: Option<PathBuf>,
    ignore_files: Vec<PathBuf>,
    dbs: Vec<PathBuf>,
    audit_exclude: Vec<String>,
    ignore_advisories: Vec<String>,
}

fn abs(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn fail_json(command: &str, reason: String) -> String {
    let v = Verdict::fail(reason);
    verdict_json(command, &v, None, 1).to_string()
}

fn verdict_out(command: &str, v: &Verdict, report: &Path) -> String {
    let code = match v.outcome {
        Outcome::Pass => 0,
        Outcome::Fail => 1,
        Outcome::Defer => 3,
    };
    verdict_json(command, v, Some(report), code).to_string()
}

/// Run `f` on parsed options with the GIL released; anything that goes wrong is a FAIL.
fn gate<O, F>(py: Python<'_>, command: &'static str, options: &str, f: F) -> String
where
    O: for<'de> Deserialize<'de> + Send,
    F: FnOnce(O) -> Result<String, String> + Send,
{
    let parsed: Result<O, String> =
        serde_json::from_str(options).map_err(|e| format!("{command}: invalid options: {e}"));
    py.detach(move || {
        let opts = match parsed {
            Ok(o) => o,
            Err(e) => return fail_json(command, e),
        };
        match catch_unwind(AssertUnwindSafe(|| f(opts))) {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => fail_json(command, format!("{command}: {e}")),
            Err(_) => fail_json(command, format!("{command}: internal error (panic)")),
        }
    })
}

fn security_request(o: SecurityOpts) -> Result<SecurityRequest, String> {
    let repo = o.repo.unwrap_or_else(|| PathBuf::from("."));
    let mut r = SecurityRequest::new(repo);
    if let Some(b) = o.base {
        r.base = b;
    }
    if let Some(h) = o.head {
        r.head = h;
    }
    r.report_file = o.report_file.as_deref().map(abs);
    r.settings_file = o.settings.as_deref().map(abs);
    r.config = o.config.as_deref().map(abs);
    r.ignore_files = o.ignore_files.iter().map(|p| abs(p)).collect();
    r.audit = AuditInputs {
        dbs: o.dbs.iter().map(|p| abs(p)).collect(),
        online: o.online || o.osv_url.is_some(),
        osv_api_url: o.osv_url,
        ignore: o.ignore_advisories,
        exclude: o.audit_exclude,
    };
    r.overrides.dep_audit_fail_closed = o.dep_audit_fail_closed;
    r.overrides.timeout_s = o.timeout_s;
    Ok(r)
}

fn merge_request(o: &MergeOpts) -> Result<MergeRequest, String> {
    let repo = o.repo.clone().ok_or("'repo' is required")?;
    let branch = o.branch.clone().ok_or("'branch' is required")?;
    let mut r = MergeRequest::new(repo, branch);
    if let Some(m) = &o.main {
        r.main = m.clone();
    }
    if let Some(m) = &o.remote {
        r.remote = m.clone();
    }
    r.holder = o.holder.clone();
    r.test_command = o.test.clone();
    r.test_timeout = o.test_timeout_s.map(Duration::from_secs);
    r.worktree = o.worktree.clone();
    r.lease_dir = o.lease_dir.as_deref().map(abs);
    r.lease_url = o.lease_url.clone();
    r.lease_ttl = o.ttl_s.map(Duration::from_secs);
    r.report_file = o.report_file.as_deref().map(abs);
    r.settings_file = o.settings.as_deref().map(abs);
    r.security = match (&o.security_report, o.no_security) {
        (_, true) => SecurityCheck::Skip,
        (Some(p), false) => SecurityCheck::Report(abs(p)),
        (None, false) => SecurityCheck::run_default(&r.repo),
    };
    Ok(r)
}

/// Run the security gate; returns the gate-output JSON object.
#[pyfunction]
fn security_gate(py: Python<'_>, options: &str) -> String {
    gate(py, "gate security", options, |o: SecurityOpts| {
        let req = security_request(o)?;
        let v = security(&req);
        Ok(verdict_out("gate security", &v, &report_path(&req)))
    })
}

/// Run the merge gate; returns the gate-output JSON object.
#[pyfunction]
fn merge_gate(py: Python<'_>, options: &str) -> String {
    gate(py, "gate merge", options, |o: MergeOpts| {
        let req = merge_request(&o)?;
        let v = merge(&req);
        Ok(verdict_out("gate merge", &v, &abs(&req.report_path())))
    })
}

/// Run the whole edge (`gate all`); returns the gate-output JSON object.
#[pyfunction]
fn gate_all(py: Python<'_>, options: &str) -> String {
    gate(py, "gate all", options, |o: MergeOpts| {
        let mut m = MergeOpts {
            report_file: o.merge_report.clone(),
            ..MergeOpts::default()
        };
        m.repo = o.repo.clone();
        m.branch = o.branch.clone();
        m.holder = o.holder.clone();
        m.test = o.test.clone();
        m.main = o.main.clone();
        m.remote = o.remote.clone();
        m.test_timeout_s = o.test_timeout_s;
        m.worktree = o.worktree.clone();
        m.lease_dir = o.lease_dir.clone();
        m.lease_url = o.lease_url.clone();
        m.ttl_s = o.ttl_s;
        m.settings = o.settings.clone();
        let merge = merge_request(&m)?;
        let sec = security_request(SecurityOpts {
            repo: o.repo.clone(),
            report_file: o.security_report.clone(),
            settings: o.settings.clone(),
            config: o.config.clone(),
            ignore_files: o.ignore_files.clone(),
            dbs: o.dbs.clone(),
            audit_exclude: o.audit_exclude.clone(),
            ignore_advisories: o.ignore_advisories.clone(),
            ..SecurityOpts::default()
        })?;
        let mut req = AllRequest::new(merge.repo.clone(), merge.branch.clone());
        req.merge = merge;
        req.security = sec;
        req.land = o.land;
        if let Some(n) = o.max_attempts {
            req.max_attempts = n;
        }
        req.report_file = o.report_file.as_deref().map(abs);
        let v = all(&req);
        Ok(verdict_out("gate all", &v, &req.report_path()))
    })
}

/// Read a report's verdict (fail-closed). With `head`, the report must be about that commit
/// (`head_commit` of a security report, `tested_sha` or `branch_sha_before` of a merge or
/// `gate all` report), else the verdict is FAIL.
#[pyfunction]
#[pyo3(signature = (path, head=None))]
fn read_verdict_json(py: Python<'_>, path: PathBuf, head: Option<String>) -> String {
    py.detach(move || {
        let mut v = read_verdict(&path);
        if let Some(h) = head.filter(|h| !h.is_empty()) {
            let fm = v.frontmatter.as_ref();
            let about: Vec<String> = ["head_commit", "tested_sha", "branch_sha_before"]
                .iter()
                .filter_map(|k| fm.and_then(|m| m.get(*k)).and_then(|x| x.as_str()))
                .map(str::to_string)
                .collect();
            let matches = h.len() >= 7 && about.iter().any(|a| a.starts_with(&h));
            if !matches {
                v.outcome = Outcome::Fail;
                v.reasons.insert(
                    0,
                    format!(
                        "{}: the report is not about commit {h} (it names {})",
                        path.display(),
                        if about.is_empty() {
                            "no commit".to_string()
                        } else {
                            about.join(", ")
                        }
                    ),
                );
            }
        }
        verdict_out("verdict", &v, &path)
    })
}

/// Scan `text` with the embedded rules (or a gitleaks configuration); findings as JSON. The
/// secret is replaced by `REDACTED` in `secret` and `match` unless `reveal` is true.
#[pyfunction]
#[pyo3(signature = (text, path=None, config=None, reveal=false))]
fn scan_text(
    py: Python<'_>,
    text: String,
    path: Option<String>,
    config: Option<PathBuf>,
    reveal: bool,
) -> PyResult<String> {
    let out = py.detach(move || -> Result<String, String> {
        use portcullis::detect::{DetectOptions, Detector, Fragment, redact_finding};
        use portcullis::rules::Config;
        let cfg = match &config {
            Some(p) => Config::load(p).map_err(|e| e.to_string())?,
            None => Config::embedded_default(),
        };
        let det = Detector::new(cfg, DetectOptions::default()).map_err(|e| e.to_string())?;
        let file = path.unwrap_or_default();
        let mut findings = Vec::new();
        det.scan(
            &Fragment {
                text: text.as_bytes(),
                path: &file,
                start_line: 1,
                ..Fragment::default()
            },
            &mut findings,
        );
        let list: Vec<Value> = findings
            .into_iter()
            .map(|mut f| {
                if !reveal {
                    redact_finding(&mut f, 100);
                }
                json!({
                    "rule_id": f.rule_id,
                    "description": f.description,
                    "file": f.file,
                    "start_line": f.start_line,
                    "end_line": f.end_line,
                    "start_column": f.start_column,
                    "end_column": f.end_column,
                    "match": f.r#match,
                    "secret": f.secret,
                    "entropy": f.entropy,
                    "redacted": !reveal,
                })
            })
            .collect();
        Ok(Value::from(list).to_string())
    });
    out.map_err(PyValueError::new_err)
}

/// Audit lockfiles (files or directories); the `portcullis.audit/v1` report as JSON, merged
/// over all paths.
#[pyfunction]
#[pyo3(signature = (paths, dbs=Vec::new(), ignore=Vec::new(), no_dev=false, online=false, strict=false))]
fn audit(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    dbs: Vec<PathBuf>,
    ignore: Vec<String>,
    no_dev: bool,
    online: bool,
    strict: bool,
) -> PyResult<String> {
    let out = py.detach(move || -> Result<String, String> {
        use portcullis::audit::{AuditOptions, audit_path};
        let opts = AuditOptions {
            dbs: dbs.iter().map(|p| abs(p)).collect(),
            ignore,
            no_dev,
            online,
            strict,
            ..AuditOptions::default()
        };
        let mut merged: Option<Value> = None;
        for p in &paths {
            let report = audit_path(p, &opts).map_err(|e| format!("{}: {e}", p.display()))?;
            let v = serde_json::to_value(&report).map_err(|e| e.to_string())?;
            merged = Some(match merged {
                None => v,
                Some(acc) => merge_audit(acc, v),
            });
        }
        Ok(merged
            .unwrap_or_else(|| json!({"schema": "portcullis.audit/v1", "status": "ok",
                "sources": [], "lockfiles": [], "findings": [], "ignored": [], "warnings": []}))
        .to_string())
    });
    out.map_err(PyValueError::new_err)
}

fn merge_audit(mut acc: Value, next: Value) -> Value {
    let rank = |s: &Value| match s.as_str() {
        Some("error") => 2,
        Some("degraded") => 1,
        _ => 0,
    };
    if rank(&next["status"]) > rank(&acc["status"]) {
        acc["status"] = next["status"].clone();
    }
    for key in ["lockfiles", "findings", "ignored", "warnings"] {
        if let (Some(a), Some(b)) = (acc[key].as_array_mut(), next[key].as_array()) {
            a.extend(b.iter().cloned());
        }
    }
    acc
}

/// The `portcullis` command line (argv[0] is the program name); returns the exit status.
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<String>) -> i32 {
    py.detach(move || {
        catch_unwind(AssertUnwindSafe(|| portcullis::run_cli(argv))).unwrap_or(2)
    })
}

/// The extension module.
#[pymodule]
fn _portcullis(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(security_gate, m)?)?;
    m.add_function(wrap_pyfunction!(merge_gate, m)?)?;
    m.add_function(wrap_pyfunction!(gate_all, m)?)?;
    m.add_function(wrap_pyfunction!(read_verdict_json, m)?)?;
    m.add_function(wrap_pyfunction!(scan_text, m)?)?;
    m.add_function(wrap_pyfunction!(audit, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
