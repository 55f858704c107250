//! The Markdown body of the security report. Secrets are shown only in their redacted form
//! ([`redact`]); the whole report then goes through the redaction pass of
//! [`crate::report::redact`] before it is written.

use std::fmt::Write as _;

use crate::report::redact::redact;

use super::model::{DependenciesStatus, DepsPart, SecretsPart, SecurityFrontmatter, Vulnerability};

/// Text safe inside a Markdown table cell / inline code: no newlines, no pipes, no backticks.
fn cell(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
        .replace('|', "\\|")
        .replace('`', "'")
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// The first line of a commit message.
fn title(message: &str) -> &str {
    message.lines().next().unwrap_or("")
}

/// Everything the body needs besides the frontmatter.
pub struct BodyInput<'a> {
    /// The frontmatter (verdict, reasons, range, ...).
    pub fm: &'a SecurityFrontmatter,
    /// Secret scan results (None when the gate skipped).
    pub secrets: Option<&'a SecretsPart>,
    /// Dependency audit results (None when the gate skipped).
    pub deps: Option<&'a DepsPart>,
}

/// Render the Markdown body: the verdict and reasons first, then one section per problem
/// with the concrete steps that fix it, then the details of the run.
pub fn body(input: &BodyInput<'_>) -> String {
    let fm = input.fm;
    let mut b = String::new();
    let _ = writeln!(b, "# Security gate: {}\n", fm.verdict);
    if fm.skipped {
        let _ = writeln!(
            b,
            "The gate did not run on `{}`; this report passes so the pipeline keeps one code path.\n",
            cell(&fm.repo)
        );
    } else {
        let _ = writeln!(
            b,
            "Repository `{}`; branch `{}` against `{}`; scanned range `{}` (from the merge-base, \
             before any rebase, so nothing main gained after the fork is blamed on the branch).\n",
            cell(&fm.repo),
            cell(&fm.head),
            cell(&fm.base),
            cell(fm.range.as_deref().unwrap_or("(not computed)")),
        );
    }
    if !fm.reasons.is_empty() {
        b.push_str("## Reasons\n\n");
        for r in &fm.reasons {
            let _ = writeln!(b, "- {}", r.replace(['\r', '\n'], " "));
        }
        b.push('\n');
    }
    if let Some(d) = input.deps
        && d.status == DependenciesStatus::Degraded
    {
        b.push_str("> **WARNING: the dependency audit is degraded.** An advisory source was unreachable, unreadable or out of date, or a changed lockfile could not be audited (listed as NOT AUDITED below), so vulnerabilities may have been missed");
        if fm.policy.dep_audit_fail_closed {
            b.push_str("; `dep_audit_fail_closed` is set, so this fails the gate.\n");
        } else {
            b.push_str(
                "; the gate passes on this alone because `dep_audit_fail_closed` is not set.\n",
            );
        }
        for w in &d.warnings {
            let _ = writeln!(b, "> - {}", w.replace(['\r', '\n'], " "));
        }
        b.push('\n');
    }
    if let Some(s) = input.secrets {
        secrets_section(&mut b, fm, s);
    }
    if let Some(d) = input.deps {
        deps_section(&mut b, d);
    }
    details(&mut b, input);
    b
}

fn secrets_section(b: &mut String, fm: &SecurityFrontmatter, s: &SecretsPart) {
    if !s.errors.is_empty() {
        let _ = writeln!(b, "## Secret scan errors ({})\n", s.errors.len());
        b.push_str(
            "The secret scan is fail-closed: any part of the range that could not be scanned \
             fails the gate.\n\n",
        );
        for e in &s.errors {
            let _ = writeln!(b, "- {}", e.replace(['\r', '\n'], " "));
        }
        b.push_str(
            "\nFix: make every object of the range available (fetch a full clone rather than \
             a partial or shallow one), fix the configuration named above, then re-run the \
             gate.\n\n",
        );
    }
    if s.findings.is_empty() {
        return;
    }
    let _ = writeln!(b, "## Secrets ({})\n", s.findings.len());
    b.push_str("| # | Rule | Location | Commit | Secret (redacted) | Fingerprint |\n");
    b.push_str("|---|------|----------|--------|-------------------|-------------|\n");
    for (i, f) in s.findings.iter().enumerate() {
        let fp = if f.secret_fingerprint.is_empty() {
            crate::report::finding::secret_fingerprint(&f.rule_id, &f.secret)
        } else {
            f.secret_fingerprint.clone()
        };
        let _ = writeln!(
            b,
            "| {} | `{}` | `{}:{}` | `{}` {} | `{}` | `{}` |",
            i + 1,
            cell(&f.rule_id),
            cell(&f.file),
            f.start_line,
            short(&f.commit),
            cell(title(&f.message)),
            cell(&redact(&f.secret)),
            fp,
        );
    }
    let mb = fm
        .merge_base
        .as_deref()
        .map(short)
        .unwrap_or("<merge-base>");
    let _ = write!(
        b,
        "\n### How to fix\n\n\
         1. **Rotate every secret listed above.** It has been pushed, so treat it as leaked: \
         revoke it where it was issued, create a new one, and load the new one from the \
         environment or a secret manager instead of the repository.\n\
         2. **Drop the secret from every commit of the branch**, not only from the tip: a later \
         commit that deletes it leaves it in history. For example `git rebase -i {mb}`, mark \
         each commit listed above as `edit`, remove the secret, `git commit --amend`, \
         `git rebase --continue` — or squash the branch onto `{mb}` with the secret removed — \
         then force-push the branch.\n\
         3. Only if a finding is a false positive: add its fingerprint (last column) to \
         `.gitleaksignore` on the main branch. The gate reads the configuration of the \
         merge-base, so a branch cannot allowlist its own findings.\n\n"
    );
}

fn fix_command(v: &Vulnerability, fixed: &str) -> String {
    let lockfile = v.lockfile.rsplit('/').next().unwrap_or(&v.lockfile);
    let p = &v.package;
    match (v.ecosystem.as_str(), lockfile) {
        (_, "Cargo.lock") | ("crates.io", _) => {
            format!("`cargo update -p {p}@{} --precise {fixed}`", v.version)
        }
        (_, "poetry.lock") => format!("`poetry add \"{p}>={fixed}\"` (or `poetry update {p}`)"),
        (_, "uv.lock") => format!("`uv lock --upgrade-package {p}=={fixed}`"),
        (_, "Pipfile.lock") => format!("set `{p} = \">={fixed}\"` in Pipfile, then `pipenv lock`"),
        (_, "pdm.lock") => format!("`pdm update {p}` (with `{p}>={fixed}` in pyproject.toml)"),
        (_, "package-lock.json") => format!("`npm install {p}@{fixed}`"),
        (_, "go.mod") if p == "stdlib" => format!(
            "build with Go {} or later (`toolchain go{}` in go.mod)",
            fixed.trim_start_matches('v'),
            fixed.trim_start_matches('v')
        ),
        (_, "go.sum" | "go.mod") => format!(
            "`go get {p}@v{}` then `go mod tidy`",
            fixed.trim_start_matches('v')
        ),
        (_, l) if l.starts_with("requirements") => {
            format!(
                "pin `{p}=={fixed}` in `{}` (re-run pip-compile if it is generated)",
                v.lockfile
            )
        }
        _ => format!("upgrade `{p}` to `{fixed}` and regenerate `{}`", v.lockfile),
    }
}

fn deps_section(b: &mut String, d: &DepsPart) {
    if !d.errors.is_empty() {
        let _ = writeln!(b, "## Dependency audit errors ({})\n", d.errors.len());
        for e in &d.errors {
            let _ = writeln!(b, "- {}", e.replace(['\r', '\n'], " "));
        }
        b.push_str(
            "\nFix: make every lockfile the branch changes parse (the error names the file and \
             line), then re-run the gate.\n\n",
        );
    }
    if d.vulnerabilities.is_empty() {
        return;
    }
    let _ = writeln!(
        b,
        "## Vulnerable dependencies ({})\n",
        d.vulnerabilities.len()
    );
    b.push_str("| Package | Version | Advisory | Fixed in | Lockfile | Summary |\n");
    b.push_str("|---------|---------|----------|----------|----------|---------|\n");
    for v in &d.vulnerabilities {
        let id = if v.aliases.is_empty() {
            v.id.clone()
        } else {
            format!("{} ({})", v.id, v.aliases.join(", "))
        };
        let _ = writeln!(
            b,
            "| `{}` | `{}` | {} | {} | `{}` | {} |",
            cell(&v.package),
            cell(&v.version),
            cell(&id),
            cell(v.fixed_in.as_deref().unwrap_or("none")),
            cell(&v.lockfile),
            cell(&v.summary),
        );
    }
    b.push_str("\n### How to fix\n\n");
    for v in &d.vulnerabilities {
        match v.fixed_in.as_deref() {
            Some(fixed) => {
                let _ = writeln!(
                    b,
                    "- `{}` {} ({}): bump to {} or later: {}.",
                    cell(&v.package),
                    cell(&v.version),
                    cell(&v.id),
                    cell(fixed),
                    fix_command(v, fixed)
                );
            }
            None => {
                let _ = writeln!(
                    b,
                    "- `{}` {} ({}): no fixed version exists; remove the dependency or replace \
                     it, or (after review) ignore the advisory explicitly with \
                     `--ignore-advisory {}`.",
                    cell(&v.package),
                    cell(&v.version),
                    cell(&v.id),
                    cell(&v.id)
                );
            }
        }
    }
    b.push_str(
        "\nThen commit the updated lockfile on the branch and re-run the gate. Only versions \
         the branch introduces are listed; vulnerabilities main already had are not blamed \
         on the branch.\n\n",
    );
}

fn details(b: &mut String, input: &BodyInput<'_>) {
    let fm = input.fm;
    b.push_str("## Details\n\n");
    let _ = writeln!(
        b,
        "- merge-base: `{}`",
        fm.merge_base.as_deref().unwrap_or("-")
    );
    let _ = writeln!(
        b,
        "- head commit: `{}`",
        fm.head_commit.as_deref().unwrap_or("-")
    );
    if let Some(s) = input.secrets {
        let _ = writeln!(
            b,
            "- secret scan: {}, {} commit(s), {} byte(s), config {} (sha256 `{}`)",
            format!("{:?}", s.status).to_lowercase(),
            s.commits_scanned,
            s.bytes_scanned,
            fm.config.as_deref().unwrap_or("-"),
            fm.config_sha256.as_deref().unwrap_or("-"),
        );
        for w in &s.warnings {
            let _ = writeln!(b, "  - warning: {}", w.replace(['\r', '\n'], " "));
        }
    }
    if let Some(d) = input.deps {
        let _ = writeln!(
            b,
            "- dependency audit: {}",
            format!("{:?}", d.status).to_lowercase()
        );
        for s in &d.sources {
            let _ = writeln!(
                b,
                "  - source `{}` ({}), snapshot {}",
                cell(&s.name),
                cell(&s.kind),
                s.snapshot_date.as_deref().unwrap_or("date unknown")
            );
        }
        if d.status != DependenciesStatus::Degraded {
            for w in &d.warnings {
                let _ = writeln!(b, "  - warning: {}", w.replace(['\r', '\n'], " "));
            }
        }
    }
    let _ = writeln!(
        b,
        "- {} {}, started {}, {} ms",
        fm.tool.name, fm.tool.version, fm.started_at, fm.duration_ms
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc`d"), "a\\|b c'd");
    }
}
