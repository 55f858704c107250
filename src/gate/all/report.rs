//! The combined report of `gate all`: frontmatter (schema `portcullis/gate-all-report/v1`)
//! and the Markdown body.

use serde::Serialize;

use crate::report::verdict::ALL_SCHEMA;

/// One step of a `gate all` run and how it ended.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StepOutcome {
    /// `resolve`, `security`, `merge`, `land` or `release`.
    pub step: &'static str,
    /// Which attempt (1-based) the step belongs to.
    pub attempt: u32,
    /// `PASS`, `FAIL`, `DEFER`, `done`, `moved` (main moved: re-run) or `skipped`.
    pub outcome: String,
    /// One line: what happened (never a raw secret).
    pub detail: String,
    /// The step's own report, if it wrote one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
}

/// Frontmatter of a `gate all` report. `None` fields are omitted.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AllFrontmatter {
    pub schema: &'static str,
    pub verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub reasons: Vec<String>,
    pub repo: String,
    pub remote: String,
    pub branch: String,
    pub main: String,
    pub land: bool,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_report: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_report: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_sha: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tested_sha: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landed_sha: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fencing_token: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_holder: Option<String>,
    pub lease_held: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
    pub steps: Vec<StepOutcome>,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
    pub portcullis_version: &'static str,
}

impl AllFrontmatter {
    pub fn new(repo: String, remote: String, branch: String, main: String, land: bool) -> Self {
        AllFrontmatter {
            schema: ALL_SCHEMA,
            verdict: "FAIL",
            reason: None,
            reasons: Vec::new(),
            repo,
            remote,
            branch,
            main,
            land,
            attempts: 0,
            security_report: None,
            merge_report: None,
            security_mode: None,
            base_sha: None,
            tested_sha: None,
            landed_sha: None,
            fencing_token: None,
            lease_nonce: None,
            lease_holder: None,
            lease_held: false,
            holder: None,
            retry_after_s: None,
            steps: Vec::new(),
            started_at: String::new(),
            finished_at: String::new(),
            duration_ms: 0,
            portcullis_version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// Record a step.
    pub fn step(
        &mut self,
        step: &'static str,
        outcome: impl Into<String>,
        detail: impl Into<String>,
        report: Option<String>,
    ) {
        self.steps.push(StepOutcome {
            step,
            attempt: self.attempts.max(1),
            outcome: outcome.into(),
            detail: detail.into(),
            report,
        });
    }
}

/// The Markdown body (the frontmatter is authoritative; this is for people).
pub(crate) fn render_body(fm: &AllFrontmatter) -> String {
    let mut b = format!("# Gate all: {}\n\n", fm.verdict);
    if let Some(r) = &fm.reason {
        b.push_str(&format!("Reason: **{r}**\n\n"));
    }
    for r in &fm.reasons {
        b.push_str(&format!("- {r}\n"));
    }
    b.push_str("\n## Steps\n\n| attempt | step | outcome | detail |\n|---|---|---|---|\n");
    for s in &fm.steps {
        b.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            s.attempt,
            s.step,
            s.outcome,
            s.detail.replace('|', "\\|").replace('\n', " ")
        ));
    }
    b.push('\n');
    for (k, v) in [
        ("security report", &fm.security_report),
        ("merge report", &fm.merge_report),
        ("base_sha", &fm.base_sha),
        ("tested_sha", &fm.tested_sha),
        ("landed_sha", &fm.landed_sha),
    ] {
        if let Some(v) = v {
            b.push_str(&format!("- {k}: `{v}`\n"));
        }
    }
    if fm.verdict == "PASS" && !fm.land && fm.lease_held {
        b.push_str(
            "\nThe lease stays held: land exactly `tested_sha` while main is still `base_sha`, \
             then run `portcullis lease release`.\n",
        );
    }
    b
}
