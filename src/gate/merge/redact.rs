//! Keeping secrets out of the merge report: the test output (and the test command) are
//! scanned with the detection engine's embedded default rules, and every secret found is
//! replaced by a redacted form before anything is stored. If the engine cannot be built,
//! callers must omit the text instead (fail safe).

use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use crate::detect::{DetectOptions, Detector, Fragment};
use crate::report::finding::Finding;
use crate::rules::Config;

/// Marker that follows the kept prefix of a redacted secret.
pub(crate) const REDACTED: &str = "…REDACTED";

/// The detector with the embedded default rules, built once per process; `Err` says why it
/// is unavailable.
pub(crate) fn detector() -> Result<&'static Detector, String> {
    static DETECTOR: OnceLock<Result<Detector, String>> = OnceLock::new();
    DETECTOR
        .get_or_init(|| {
            catch_unwind(build_detector)
                .unwrap_or_else(|_| Err("building the detector panicked".into()))
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn build_detector() -> Result<Detector, String> {
    let config = Config::embedded_default();
    if config.rules().is_empty() {
        let why = config
            .warnings()
            .first()
            .cloned()
            .unwrap_or_else(|| "the embedded rule set has no rules".into());
        return Err(why);
    }
    Detector::new(config, DetectOptions::default()).map_err(|e| e.to_string())
}

/// The redacted form of a secret: at most its first 4 characters (never more than a quarter
/// of it), then [`REDACTED`].
pub(crate) fn redacted_form(secret: &str) -> String {
    let n = secret.chars().count();
    let keep = (n / 4).min(4);
    let prefix: String = secret.chars().take(keep).collect();
    format!("{prefix}{REDACTED}")
}

/// `text` with every secret the detector finds replaced, plus the byte offsets (in the
/// returned text) where a redaction starts. A secret found only after decoding (it does not
/// occur literally in `text`) redacts its whole lines, with one line of margin each side.
/// `Err` if the detector is unavailable or fails: then `text` must not be stored.
pub(crate) fn redact_text(text: &str) -> Result<(String, Vec<usize>), String> {
    let det = detector()?;
    let mut findings: Vec<Finding> = Vec::new();
    let frag = Fragment {
        text: text.as_bytes(),
        ..Fragment::default()
    };
    catch_unwind(AssertUnwindSafe(|| det.scan(&frag, &mut findings)))
        .map_err(|_| "the detector panicked while scanning".to_string())?;
    Ok(apply(text, &findings))
}

/// Replace the findings' secrets in `text` (see [`redact_text`]).
fn apply(text: &str, findings: &[Finding]) -> (String, Vec<usize>) {
    // Ranges to replace, each with its replacement.
    let mut ranges: Vec<(Range<usize>, String)> = Vec::new();
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    for f in findings {
        let secret = if f.secret.is_empty() {
            &f.r#match
        } else {
            &f.secret
        };
        if secret.is_empty() {
            continue;
        }
        let literal: Vec<usize> = text
            .match_indices(secret.as_str())
            .map(|(i, _)| i)
            .collect();
        if literal.is_empty() {
            // Found after decoding: redact the lines around the reported location.
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
        } else {
            for i in literal {
                ranges.push((i..i + secret.len(), redacted_form(secret)));
            }
        }
    }
    ranges.sort_by(|a, b| a.0.start.cmp(&b.0.start).then(b.0.end.cmp(&a.0.end)));
    let mut out = String::with_capacity(text.len());
    let mut marks = Vec::new();
    let mut pos = 0;
    for (r, with) in ranges {
        if r.end <= pos {
            continue; // inside a range already replaced
        }
        let start = r.start.max(pos);
        out.push_str(&text[pos..start]);
        marks.push(out.len());
        if start == r.start {
            out.push_str(&with);
        } else {
            out.push_str(REDACTED); // overlaps the previous replacement
        }
        pos = r.end;
    }
    out.push_str(&text[pos..]);
    (out, marks)
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
