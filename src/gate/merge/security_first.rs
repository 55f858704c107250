//! The merge gate's security step: no branch the security gate fails is rebased, tested or
//! pushed.
//!
//! Before the merge gate touches the branch it settles its security verdict on the exact
//! commit it is about to test (`branch_sha_before`), against the range
//! `merge-base(REMOTE/MAIN, branch)..branch`, in one of three ways ([`SecurityCheck`]):
//!
//! * [`SecurityCheck::Run`] (the default): run the security gate now;
//! * [`SecurityCheck::Report`]: accept an existing security report only if it reads back as a
//!   non-skipped PASS whose `head_commit` is that commit and whose `merge_base` is
//!   `merge-base(REMOTE/MAIN, branch)` as of now;
//! * [`SecurityCheck::Skip`]: the explicit opt-out (`--no-security`), recorded in the report
//!   as `security.mode: skipped`.
//!
//! Anything else is FAIL with reason `security`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::gate::security::{SecurityRequest, security};
use crate::report::read_verdict;
use crate::report::verdict::SECURITY_SCHEMA;

use super::git::Git;
use super::{Failure, MergeRequest, fail, git_err, short};

/// How the merge gate settles the branch's security verdict before anything changes.
#[derive(Debug, Clone, PartialEq)]
pub enum SecurityCheck {
    /// Run the security gate on the branch head. The request is a template: its `repo`,
    /// `base` and `head` are replaced by the merge gate's; a `report_file` of `None` means
    /// `<merge report without .md>.security.md`.
    Run(Box<SecurityRequest>),
    /// Accept this existing security report (PASS, same head and merge-base) instead.
    Report(PathBuf),
    /// Explicit opt-out: no security verdict; recorded in the report.
    Skip,
}

impl SecurityCheck {
    /// The default: run the security gate with default options on `repo`.
    pub fn run_default(repo: &Path) -> SecurityCheck {
        SecurityCheck::Run(Box::new(SecurityRequest::new(repo)))
    }
}

/// The `security` section of a merge report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct SecurityStep {
    /// `run`, `report` or `skipped`.
    pub mode: &'static str,
    /// The security verdict that was relied on (absent when skipped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// The security report file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// The commit the verdict is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_commit: Option<String>,
    /// The start of the range it covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_base: Option<String>,
}

/// Where the security report of a merge request goes when the template names none.
pub fn default_security_report(merge_report: &Path) -> PathBuf {
    let name = merge_report
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "merge-report.md".into());
    let stem = name.strip_suffix(".md").unwrap_or(&name);
    merge_report.with_file_name(format!("{stem}.security.md"))
}

/// Settle the security verdict of `head` (the branch as the gate is about to test it) against
/// main at `base`. `Ok` means the merge gate may go on; the step is recorded either way.
pub(crate) fn check(
    req: &MergeRequest,
    git: &Git,
    base: &str,
    head: &str,
    record: &mut Option<SecurityStep>,
) -> Result<(), Failure> {
    let mut step = SecurityStep {
        mode: "skipped",
        verdict: None,
        report: None,
        head_commit: Some(head.to_string()),
        merge_base: None,
    };
    let outcome = settle(req, git, base, head, &mut step);
    *record = Some(step);
    outcome
}

fn settle(
    req: &MergeRequest,
    git: &Git,
    base: &str,
    head: &str,
    step: &mut SecurityStep,
) -> Result<(), Failure> {
    let report = match &req.security {
        SecurityCheck::Skip => return Ok(()),
        SecurityCheck::Run(template) => {
            step.mode = "run";
            let mut sreq = (**template).clone();
            sreq.repo = req.repo.clone();
            sreq.base = base.to_string();
            sreq.head = head.to_string();
            let path = sreq
                .report_file
                .clone()
                .unwrap_or_else(|| default_security_report(&req.report_path()));
            let path = std::path::absolute(&path).unwrap_or(path);
            sreq.report_file = Some(path.clone());
            step.report = Some(path.display().to_string());
            let v = security(&sreq);
            step.verdict = Some(v.outcome.to_string());
            if !v.is_pass() {
                return Err(security_failed(&v.reasons, &path));
            }
            path
        }
        SecurityCheck::Report(path) => {
            step.mode = "report";
            step.report = Some(path.display().to_string());
            path.clone()
        }
    };
    // Both modes: the report as read back must be a PASS about exactly this range.
    let v = read_verdict(&report);
    step.verdict = Some(v.outcome.to_string());
    if !v.is_pass() {
        return Err(security_failed(&v.reasons, &report));
    }
    if v.schema != SECURITY_SCHEMA {
        return Err(fail(
            "security",
            format!("{}: not a security report ({})", report.display(), v.schema),
        ));
    }
    let fm = v.frontmatter.as_ref();
    let text = |key: &str| {
        fm.and_then(|m| m.get(key))
            .and_then(|x| x.as_str())
            .map(str::to_string)
    };
    if fm.and_then(|m| m.get("skipped")).and_then(|x| x.as_bool()) == Some(true) {
        return Err(fail(
            "security",
            format!(
                "{}: the security gate was skipped, not passed",
                report.display()
            ),
        ));
    }
    let expected_base = git.check(&["merge-base", base, head]).map_err(|e| {
        git_err(format!(
            "merge-base of {} and {}: {e}",
            short(base),
            short(head)
        ))
    })?;
    step.merge_base = Some(expected_base.clone());
    let got_head = text("head_commit").unwrap_or_default();
    let got_base = text("merge_base").unwrap_or_default();
    if got_head != head || got_base != expected_base {
        return Err(fail(
            "security",
            format!(
                "{}: the security report covers {}..{}, but the branch to merge is {}..{}",
                report.display(),
                short(&got_base),
                short(&got_head),
                short(&expected_base),
                short(head)
            ),
        ));
    }
    Ok(())
}

fn security_failed(reasons: &[String], report: &Path) -> Failure {
    let shown: Vec<&str> = reasons.iter().take(3).map(String::as_str).collect();
    let more = reasons.len().saturating_sub(shown.len());
    fail(
        "security",
        format!(
            "the security gate does not PASS this branch ({}): {}{}",
            report.display(),
            if shown.is_empty() {
                "no reason given".to_string()
            } else {
                shown.join("; ")
            },
            if more > 0 {
                format!(" (+{more} more)")
            } else {
                String::new()
            }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_report_sits_beside_the_merge_report() {
        assert_eq!(
            default_security_report(Path::new("/r/merge-report.md")),
            PathBuf::from("/r/merge-report.security.md")
        );
        assert_eq!(
            default_security_report(Path::new("out/x")),
            PathBuf::from("out/x.security.md")
        );
    }
}
