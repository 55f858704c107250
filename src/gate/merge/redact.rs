//! Keeping secrets out of the merge report's test output and test command: they are scanned
//! with the embedded default rules and every secret found is replaced (raw and encoded
//! copies) before anything is stored, counting the replacements. If the engine cannot be
//! built, callers must omit the text instead (fail safe). The whole report then goes through
//! the last redaction pass of [`crate::report::redact`].

use std::ops::Range;

use crate::report::finding::Finding;
use crate::report::redact::{RedactError, Redactor, detect, encoded_forms};

/// Marker that follows the kept prefix of a redacted secret.
pub(crate) const REDACTED: &str = crate::report::redact::TEST_OUTPUT_MARKER;

/// The redacted form of a secret: at most its first 4 characters (never more than a quarter
/// of it), then [`REDACTED`].
pub(crate) fn redacted_form(secret: &str) -> String {
    let n = secret.chars().count();
    let keep = (n / 4).min(4);
    let prefix: String = secret.chars().take(keep).collect();
    format!("{prefix}{REDACTED}")
}

fn secret_of(f: &Finding) -> &str {
    if f.secret.is_empty() {
        &f.r#match
    } else {
        &f.secret
    }
}

/// `text` with every secret the detector finds replaced (raw copies by [`redacted_form`],
/// hex/base64/percent-encoded copies by a marker), plus the byte offsets (in the returned
/// text) where a redaction starts. A secret found only after a decoding that none of those
/// forms covers redacts its whole lines, with one line of margin each side.
/// `Err` if the detector is unavailable or fails: then `text` must not be stored.
pub(crate) fn redact_text(text: &str) -> Result<(String, Vec<usize>), RedactError> {
    let findings = detect(text)?;
    let redactor = Redactor::new(findings.iter().map(secret_of));
    redactor.usable()?;
    let hidden: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            let s = secret_of(f);
            !s.is_empty()
                && !text.contains(s)
                && !encoded_forms(s).iter().any(|e| text.contains(e.as_str()))
        })
        .collect();
    let (text, line_marks) = redact_lines(text, &hidden);
    let (out, mut marks) = redactor.scrub_with(&text, redacted_form);
    if line_marks > 0 {
        let marker = format!(" {REDACTED}]");
        let mut at = 0;
        while let Some(i) = out[at..].find(&marker) {
            let end = at + i;
            if let Some(start) = out[..end].rfind('[') {
                marks.push(start);
            }
            at = end + marker.len();
        }
        marks.sort_unstable();
    }
    Ok((out, marks))
}

/// Replace the lines around each finding with a marker; returns the text and how many
/// ranges were replaced.
fn redact_lines(text: &str, findings: &[&Finding]) -> (String, usize) {
    if findings.is_empty() {
        return (text.to_string(), 0);
    }
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut ranges: Vec<(Range<usize>, String)> = Vec::new();
    for f in findings {
        let first = (f.start_line as usize).saturating_sub(1);
        let last = (f.end_line as usize + 1).min(line_starts.len() - 1);
        let start = line_starts.get(first).copied().unwrap_or(0);
        let end = line_starts
            .get(last + 1)
            .map_or(text.len(), |&e| e.saturating_sub(1));
        if start < end {
            ranges.push((
                start..end,
                format!("[{} line(s) {REDACTED}]", last + 1 - first),
            ));
        }
    }
    ranges.sort_by(|a, b| a.0.start.cmp(&b.0.start).then(b.0.end.cmp(&a.0.end)));
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    let mut n = 0;
    for (r, with) in ranges {
        if r.end <= pos {
            continue;
        }
        let start = r.start.max(pos);
        out.push_str(&text[pos..start]);
        if start == r.start {
            out.push_str(&with);
            n += 1;
        }
        pos = r.end;
    }
    out.push_str(&text[pos..]);
    (out, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_aws_key() -> String {
        // Built at runtime so this source file holds no key-shaped literal.
        let body = "Q7XPLMZ4RT2KW6HN";
        format!("{}{}{body}", "AK", "IA")
    }

    #[test]
    fn aws_key_is_redacted_and_counted() {
        let key = fake_aws_key();
        let text = format!("line one\naws_access_key_id = {key}\nagain {key} end\n");
        let (out, marks) = redact_text(&text).expect("engine available");
        assert!(!out.contains(&key), "{out}");
        assert!(out.contains(&format!("AKIA{REDACTED}")), "{out}");
        assert_eq!(marks.len(), 2, "{out}");
        assert!(out.starts_with("line one\n"));
        assert!(out.ends_with(" end\n"));
    }

    #[test]
    fn text_without_secrets_is_unchanged() {
        let text = "test result: ok. 12 passed; 0 failed\n";
        let (out, marks) = redact_text(text).expect("engine available");
        assert_eq!(out, text);
        assert!(marks.is_empty());
    }

    #[test]
    fn decoded_secret_redacts_its_lines() {
        use base64::Engine as _;
        let key = fake_aws_key();
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("aws_access_key_id = {key}"));
        let text = format!("before\nbefore2\nblob: {encoded}\nafter1\nafter2\n");
        let (out, marks) = redact_text(&text).expect("engine available");
        assert!(!out.contains(&encoded), "{out}");
        assert!(!marks.is_empty());
        assert!(out.starts_with("before\n"), "{out}");
        assert!(out.ends_with("after2\n"), "{out}");
    }

    #[test]
    fn short_secrets_keep_at_most_a_quarter() {
        assert_eq!(redacted_form("abcdefgh"), format!("ab{REDACTED}"));
        assert_eq!(redacted_form("abc"), REDACTED.to_string());
        assert_eq!(
            redacted_form("ABCDEFGHIJKLMNOPQRST"),
            format!("ABCD{REDACTED}")
        );
    }
}
