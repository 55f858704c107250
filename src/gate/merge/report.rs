//! The merge report: frontmatter fields (schema `portcullis/merge-report/v1`) and the
//! Markdown body.

use serde::Serialize;

use crate::report::verdict::MERGE_SCHEMA;

/// Frontmatter of a merge report. `None` fields are omitted.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MergeFrontmatter {
    pub schema: &'static str,
    pub verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    pub reasons: Vec<String>,
    pub repo: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo_key: Option<String>,
    pub remote: String,
    pub branch: String,
    pub main: String,
    pub gate_holder: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder_branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_sha: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_sha_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_branch_sha: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tested_sha: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_base: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behind: Option<bool>,
    pub rebased: bool,
    pub pushed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worktree: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fencing_token: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_expires_at: Option<String>,
    pub lease_held: bool,
    /// How the branch's security verdict was settled (see `security_first`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security: Option<super::security_first::SecurityStep>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflict_files: Vec<String>,
    /// What the gate cleaned up that an interrupted earlier run left in the worktree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_output_tail: Option<String>,
    /// Secrets replaced in `test_output_tail` (absent: no test ran, or the tail was omitted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_output_redactions: Option<u64>,
    /// The tail was withheld because secret redaction was unavailable.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub test_output_tail_omitted: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
    pub portcullis_version: &'static str,
}

impl MergeFrontmatter {
    pub fn new(repo: String, remote: String, branch: String, main: String) -> Self {
        MergeFrontmatter {
            schema: MERGE_SCHEMA,
            verdict: "FAIL",
            reason: None,
            reasons: Vec::new(),
            repo,
            repo_key: None,
            remote,
            branch,
            main,
            gate_holder: String::new(),
            holder: None,
            held_since: None,
            holder_branch: None,
            retry_after_s: None,
            base_sha: None,
            branch_sha_before: None,
            remote_branch_sha: None,
            tested_sha: None,
            merge_base: None,
            behind: None,
            rebased: false,
            pushed: false,
            worktree: None,
            fencing_token: None,
            lease_nonce: None,
            lease_path: None,
            lease_expires_at: None,
            lease_held: false,
            security: None,
            conflict_files: Vec::new(),
            recovered: None,
            test_command: None,
            test_exit_code: None,
            test_duration_ms: None,
            test_output_tail: None,
            test_output_redactions: None,
            test_output_tail_omitted: false,
            skipped: false,
            started_at: String::new(),
            finished_at: String::new(),
            duration_ms: 0,
            portcullis_version: env!("CARGO_PKG_VERSION"),
        }
    }
}

fn row(out: &mut String, k: &str, v: Option<&str>) {
    if let Some(v) = v {
        out.push_str(&format!("| {k} | `{}` |\n", v.replace('|', "\\|")));
    }
}

/// The Markdown body (the frontmatter is authoritative; this is for people).
pub(crate) fn render_body(fm: &MergeFrontmatter) -> String {
    let mut b = format!("# Merge gate: {}\n\n", fm.verdict);
    if let Some(r) = fm.reason {
        b.push_str(&format!("Reason: **{r}**\n\n"));
    }
    for r in &fm.reasons {
        b.push_str(&format!("- {r}\n"));
    }
    b.push_str("\n| field | value |\n|---|---|\n");
    row(&mut b, "branch", Some(&fm.branch));
    row(&mut b, "main", Some(&format!("{}/{}", fm.remote, fm.main)));
    row(&mut b, "base_sha", fm.base_sha.as_deref());
    row(&mut b, "branch before", fm.branch_sha_before.as_deref());
    row(&mut b, "tested_sha", fm.tested_sha.as_deref());
    row(
        &mut b,
        "fencing_token",
        fm.fencing_token.map(|t| t.to_string()).as_deref(),
    );
    row(&mut b, "lease holder", fm.holder.as_deref());
    row(&mut b, "held since", fm.held_since.as_deref());
    row(
        &mut b,
        "retry after (s)",
        fm.retry_after_s.map(|t| t.to_string()).as_deref(),
    );
    row(&mut b, "worktree", fm.worktree.as_deref());
    row(&mut b, "recovered", fm.recovered.as_deref());
    row(&mut b, "test command", fm.test_command.as_deref());
    if !fm.conflict_files.is_empty() {
        b.push_str("\n## Conflicting files\n\n");
        for f in &fm.conflict_files {
            b.push_str(&format!("- `{f}`\n"));
        }
    }
    if let Some(tail) = &fm.test_output_tail {
        b.push_str("\n## Test output (tail)\n\n~~~~text\n");
        b.push_str(tail);
        if !tail.ends_with('\n') {
            b.push('\n');
        }
        b.push_str("~~~~\n");
    }
    if fm.verdict == "PASS" && !fm.skipped {
        b.push_str(
            "\nThe lease stays held: merge exactly `tested_sha` while main is still `base_sha`, \
             then run `portcullis lease release`.\n",
        );
    }
    b
}

/// Why the merge report could not be written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    /// The frontmatter could not be turned into YAML.
    #[error("cannot serialise: {0}")]
    Serialize(#[source] serde_norway::Error),
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] crate::report::frontmatter::FrontmatterError),
}

/// Write the report through the last redaction pass: every secret the default rules find in
/// the rendered report (branch, holder, test command, test output, reasons; raw or encoded)
/// is replaced in the frontmatter and the body before anything is written. Returns the
/// redactor used, so what the CLI prints is scrubbed the same way. If redaction is
/// unavailable a bare FAIL report that holds no text from the run is written instead.
pub(crate) fn write_scrubbed(
    path: &std::path::Path,
    fm: &MergeFrontmatter,
) -> Result<crate::report::redact::Redactor, WriteError> {
    use crate::report::frontmatter::write_report;
    use crate::report::redact::{Redactor, scrub_report};
    let body = render_body(fm);
    let value = serde_norway::to_value(fm).map_err(WriteError::Serialize)?;
    match scrub_report(Redactor::default(), &value, &body) {
        Ok((value, body, redactor)) => {
            write_report(path, &value, &body)?;
            Ok(redactor)
        }
        Err(e) => {
            let mut bare = MergeFrontmatter::new(
                "[withheld]".into(),
                "[withheld]".into(),
                "[withheld]".into(),
                "[withheld]".into(),
            );
            bare.verdict = "FAIL";
            bare.reason = Some("internal_error");
            bare.reasons = vec![format!("internal_error: report withheld: {e}")];
            bare.started_at = fm.started_at.clone();
            bare.finished_at = fm.finished_at.clone();
            bare.duration_ms = fm.duration_ms;
            let body = render_body(&bare);
            write_report(path, &bare, &body)?;
            Ok(Redactor::default())
        }
    }
}
