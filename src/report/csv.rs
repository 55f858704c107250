//! gitleaks-compatible CSV report.
//!
//! Same header and quirks as gitleaks' `report/csv.go` (Go's `encoding/csv` writer):
//! * header `RuleID,Commit,File,SymlinkFile,Secret,Match,StartLine,EndLine,StartColumn,
//!   EndColumn,Author,Message,Date,Email,Fingerprint,Tags`, plus `Link` when the first finding
//!   has a link, plus `Confidence` when some finding's confidence is not `high`;
//! * Tags joined with single spaces;
//! * **nothing at all** (not even a header) when there are no findings;
//! * a field is quoted when it contains `"`, `,`, `\r` or `\n`, when it starts with a Unicode
//!   space, or when it is exactly `\.`; quotes are doubled; records end with `\n`.

use crate::report::Finding;

fn needs_quotes(field: &str) -> bool {
    if field.is_empty() {
        return false;
    }
    if field == "\\." {
        return true;
    }
    if field
        .bytes()
        .any(|c| matches!(c, b'\n' | b'\r' | b'"' | b','))
    {
        return true;
    }
    field.chars().next().is_some_and(char::is_whitespace)
}

fn push_record(out: &mut String, fields: &[&str]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if needs_quotes(field) {
            out.push('"');
            for c in field.chars() {
                if c == '"' {
                    out.push_str("\"\"");
                } else {
                    out.push(c);
                }
            }
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push('\n');
}

/// Render the CSV report ("" when `findings` is empty, as gitleaks).
pub fn render_csv(findings: &[Finding]) -> String {
    let mut out = String::new();
    let Some(first) = findings.first() else {
        return out;
    };
    let with_link = !first.link.is_empty();
    // portcullis: a trailing `Confidence` column when some finding is not `high` (never with
    // a gitleaks configuration, whose findings are all `high`: the header stays gitleaks').
    let with_confidence = findings
        .iter()
        .any(|f| f.confidence != crate::report::Confidence::High);
    let mut header = vec![
        "RuleID",
        "Commit",
        "File",
        "SymlinkFile",
        "Secret",
        "Match",
        "StartLine",
        "EndLine",
        "StartColumn",
        "EndColumn",
        "Author",
        "Message",
        "Date",
        "Email",
        "Fingerprint",
        "Tags",
    ];
    if with_link {
        header.push("Link");
    }
    if with_confidence {
        header.push("Confidence");
    }
    push_record(&mut out, &header);
    for f in findings {
        let nums = [
            f.start_line.to_string(),
            f.end_line.to_string(),
            f.start_column.to_string(),
            f.end_column.to_string(),
        ];
        let tags = f.tags.join(" ");
        let mut rec: Vec<&str> = vec![
            &f.rule_id,
            &f.commit,
            &f.file,
            &f.symlink_file,
            &f.secret,
            &f.r#match,
            &nums[0],
            &nums[1],
            &nums[2],
            &nums[3],
            &f.author,
            &f.message,
            &f.date,
            &f.email,
            &f.fingerprint,
            &tags,
        ];
        if with_link {
            rec.push(&f.link);
        }
        if with_confidence {
            rec.push(f.confidence.as_str());
        }
        push_record(&mut out, &rec);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_findings_no_header() {
        assert_eq!(render_csv(&[]), "");
    }

    #[test]
    fn quoting_follows_go_encoding_csv() {
        assert!(!needs_quotes(""));
        assert!(needs_quotes("a,b"));
        assert!(needs_quotes("say \"hi\""));
        assert!(needs_quotes(" lead"));
        assert!(needs_quotes("\\."));
        assert!(!needs_quotes("plain"));
        let mut s = String::new();
        push_record(&mut s, &["a\"b", "", "x\ny"]);
        assert_eq!(s, "\"a\"\"b\",,\"x\ny\"\n");
    }
}
