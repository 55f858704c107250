//! Redaction: the one last pass over every text a gate writes (report frontmatter and body,
//! what the CLI prints, lease records), so that no secret leaves the process raw or encoded.
//!
//! A [`Redactor`] knows a set of secrets: every secret a finding names, plus every string the
//! embedded default rules find in the text being written ([`Redactor::learn`]). Each secret is
//! replaced wherever it occurs:
//!
//! * raw, by [`redact`]'s short stand-in (at most a 4-character prefix and the length);
//! * hex-encoded (lower or upper case), percent-encoded (every byte as `%XX`, or only the
//!   reserved ones), and base64-encoded (standard or URL-safe alphabet, at each of the three
//!   byte alignments a secret can have inside a larger encoded text) by a fixed marker.
//!
//! Secrets shorter than [`MIN_SECRET_LEN`] bytes are not replaced in free text (they would
//! mangle ordinary words); the gates never print a secret directly.

use std::collections::HashSet;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;

use crate::detect::{DetectOptions, Detector, Fragment};
use crate::report::finding::Finding;
use crate::rules::Config;

/// Secrets shorter than this (in bytes) are not replaced in free text.
pub const MIN_SECRET_LEN: usize = 4;

/// Encoded needles shorter than this are not searched (too likely to be ordinary text).
const MIN_NEEDLE_LEN: usize = 8;

/// The stand-in for an encoded copy of a secret.
pub const ENCODED_MARKER: &str = "[REDACTED, encoded secret]";

/// Marker that follows the kept prefix of a secret redacted in the merge gate's test output.
pub const TEST_OUTPUT_MARKER: &str = "…REDACTED";

/// Why redaction could not be done; the text must then not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedactError {
    /// The detector with the embedded default rules could not be built.
    #[error("secret redaction unavailable: {0}")]
    Unavailable(String),
    /// The detector panicked while scanning the text.
    #[error("secret redaction failed: the detector panicked while scanning")]
    Panicked,
    /// Secrets were still found after redacting repeatedly.
    #[error("secret redaction did not converge: the text still holds a secret")]
    NotConverged,
}

/// A short, non-reversible stand-in for a secret: at most the first 4 characters (and never
/// more than a fifth of the secret, none for secrets shorter than 10 characters), then
/// `…` and the length.
///
/// ```
/// use portcullis::report::redact::redact;
/// assert_eq!(redact("correct-horse-battery-staple"), "corr…[REDACTED, 28 chars]");
/// assert_eq!(redact("hunter2"), "[REDACTED, 7 chars]");
/// ```
pub fn redact(secret: &str) -> String {
    let n = secret.chars().count();
    let keep = (n / 5).min(4);
    if keep == 0 || n < 10 {
        return format!("[REDACTED, {n} chars]");
    }
    let prefix: String = secret.chars().take(keep).collect();
    format!("{prefix}…[REDACTED, {n} chars]")
}

/// The detector with the embedded default rules, built once per process.
pub fn default_detector() -> Result<&'static Detector, RedactError> {
    static DETECTOR: OnceLock<Result<Detector, DetectorBuildError>> = OnceLock::new();
    DETECTOR
        .get_or_init(|| catch_unwind(build_detector).unwrap_or(Err(DetectorBuildError::Panicked)))
        .as_ref()
        .map_err(|e| RedactError::Unavailable(e.to_string()))
}

/// Why the detector with the embedded default rules could not be built.
#[derive(Debug, thiserror::Error)]
enum DetectorBuildError {
    /// The embedded rule set yielded no rules (the first config warning says why).
    #[error("{0}")]
    NoRules(String),
    /// The rules did not compile.
    #[error(transparent)]
    Compile(crate::rules::ConfigError),
    /// Building panicked.
    #[error("building the detector panicked")]
    Panicked,
}

fn build_detector() -> Result<Detector, DetectorBuildError> {
    let config = Config::embedded_default();
    if config.rules().is_empty() {
        let why = config
            .warnings()
            .first()
            .cloned()
            .unwrap_or_else(|| "the embedded rule set has no rules".into());
        return Err(DetectorBuildError::NoRules(why));
    }
    Detector::new(config, DetectOptions::default()).map_err(DetectorBuildError::Compile)
}

/// The findings of the default rules in `text`.
pub fn detect(text: &str) -> Result<Vec<Finding>, RedactError> {
    let det = default_detector()?;
    let mut findings: Vec<Finding> = Vec::new();
    let frag = Fragment {
        text: text.as_bytes(),
        ..Fragment::default()
    };
    catch_unwind(AssertUnwindSafe(|| det.scan(&frag, &mut findings)))
        .map_err(|_| RedactError::Panicked)?;
    Ok(findings)
}

/// The secret a finding names (its `Secret`, else its `Match`).
fn secret_of(f: &Finding) -> &str {
    if f.secret.is_empty() {
        &f.r#match
    } else {
        &f.secret
    }
}

/// Every encoded form of `secret` that is searched for (not the raw form).
pub fn encoded_forms(secret: &str) -> Vec<String> {
    let b = secret.as_bytes();
    let mut out = vec![hex::encode(b), hex::encode_upper(b)];
    let all: String = b.iter().map(|c| format!("%{c:02X}")).collect();
    out.push(all.to_lowercase());
    out.push(all);
    let reserved = percent_encoding::utf8_percent_encode(secret, URL_RESERVED).to_string();
    if reserved != secret {
        out.push(reserved);
    }
    for engine in [
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        for shift in 0..3usize {
            let mut bytes = vec![0u8; shift];
            bytes.extend_from_slice(b);
            let enc = engine.encode(&bytes);
            // Characters fully determined by the secret's own bits, whatever surrounds it.
            let first = (8 * shift).div_ceil(6);
            let last = (8 * (shift + b.len())) / 6;
            if let Some(core) = enc.get(first..last) {
                out.push(core.to_string());
            }
        }
    }
    out.retain(|n| n.len() >= MIN_NEEDLE_LEN && n != secret);
    out.sort();
    out.dedup();
    out
}

/// Bytes percent-encoded by URL encoders (everything but the unreserved set of RFC 3986).
const URL_RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Replaces known secrets (raw and encoded) in text; see the module docs.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    secrets: Vec<String>,
    known: HashSet<String>,
    needles: Vec<(String, String)>,
    matcher: Option<AhoCorasick>,
    /// Why the matcher could not be built (then nothing may be written).
    broken: Option<String>,
}

impl Redactor {
    /// A redactor for `secrets` (short ones are ignored).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Redactor {
        let mut r = Redactor::default();
        r.add(secrets);
        r
    }

    /// The secrets this redactor replaces, longest first.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// Add secrets; returns how many were new.
    pub fn add<'a>(&mut self, secrets: impl IntoIterator<Item = &'a str>) -> usize {
        let before = self.secrets.len();
        for s in secrets {
            if s.len() >= MIN_SECRET_LEN && self.known.insert(s.to_string()) {
                self.secrets.push(s.to_string());
            }
        }
        let added = self.secrets.len() - before;
        if added > 0 {
            self.rebuild();
        }
        added
    }

    fn rebuild(&mut self) {
        self.secrets
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        let mut needles: Vec<(String, String)> = Vec::new();
        for s in &self.secrets {
            needles.push((s.clone(), redact(s)));
            for e in encoded_forms(s) {
                needles.push((e, ENCODED_MARKER.to_string()));
            }
        }
        needles.sort_by(|a, b| a.0.cmp(&b.0));
        needles.dedup_by(|a, b| a.0 == b.0);
        // Leftmost-longest: a secret containing another is replaced whole.
        match AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(needles.iter().map(|n| n.0.as_str()))
        {
            Ok(m) => {
                self.matcher = Some(m);
                self.broken = None;
            }
            Err(e) => {
                self.matcher = None;
                self.broken = Some(e.to_string());
            }
        }
        self.needles = needles;
    }

    /// `Err` if the redactor cannot search for its secrets (its automaton could not be
    /// built); text must then not be written.
    pub fn usable(&self) -> Result<(), RedactError> {
        match &self.broken {
            Some(e) => Err(RedactError::Unavailable(e.clone())),
            None => Ok(()),
        }
    }

    /// Learn the secrets the default rules find in `text`; returns how many were new.
    pub fn learn(&mut self, text: &str) -> Result<usize, RedactError> {
        let findings = detect(text)?;
        Ok(self.add(findings.iter().map(secret_of)))
    }

    /// The byte ranges of `text` that hold a known secret (raw or encoded), with their
    /// replacements, in order and not overlapping.
    fn hits(&self, text: &str) -> Vec<(Range<usize>, &str)> {
        let Some(ac) = &self.matcher else {
            return Vec::new();
        };
        ac.find_iter(text)
            .filter_map(|m| {
                let (_, with) = self.needles.get(m.pattern().as_usize())?;
                Some((m.start()..m.end(), with.as_str()))
            })
            .collect()
    }

    /// `text` with every known secret replaced.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for (r, with) in self.hits(text) {
            out.push_str(&text[pos..r.start]);
            out.push_str(with);
            pos = r.end;
        }
        out.push_str(&text[pos..]);
        out
    }

    /// `text` with every known secret replaced by `form(secret)` (encoded copies by
    /// [`ENCODED_MARKER`]), plus the byte offsets in the result where a replacement starts.
    pub fn scrub_with(&self, text: &str, form: impl Fn(&str) -> String) -> (String, Vec<usize>) {
        let mut out = String::with_capacity(text.len());
        let mut marks = Vec::new();
        let mut pos = 0;
        for (r, with) in self.hits(text) {
            out.push_str(&text[pos..r.start]);
            marks.push(out.len());
            let found = &text[r.clone()];
            if self.known.contains(found) {
                out.push_str(&form(found));
            } else {
                out.push_str(with);
            }
            pos = r.end;
        }
        out.push_str(&text[pos..]);
        (out, marks)
    }

    /// Scrub every string inside a YAML value (keys included).
    pub fn scrub_value(&self, v: &mut serde_norway::Value) {
        use serde_norway::Value;
        match v {
            Value::String(s) => *s = self.scrub(s),
            Value::Sequence(items) => items.iter_mut().for_each(|i| self.scrub_value(i)),
            Value::Mapping(m) => {
                let old = std::mem::take(m);
                for (mut k, mut val) in old {
                    self.scrub_value(&mut k);
                    self.scrub_value(&mut val);
                    m.insert(k, val);
                }
            }
            Value::Tagged(t) => self.scrub_value(&mut t.value),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// True if `text` still holds a known secret, raw or encoded.
    pub fn leaks(&self, text: &str) -> bool {
        !self.hits(text).is_empty()
    }
}

/// Redact one line of output (a holder id, a branch name, a message for stderr): the secrets
/// the default rules find in it, raw and encoded. If the detector is unavailable the line is
/// replaced whole, so nothing unchecked is written.
pub fn scrub_line(known: &Redactor, line: &str) -> String {
    let mut r = known.clone();
    match r.learn(line).and_then(|_| r.usable()) {
        Ok(()) => r.scrub(line),
        Err(e) => format!("[withheld: {e}]"),
    }
}

/// The last pass over a report: learn every secret the default rules find in the rendered
/// text (frontmatter and body together, so rules that need context see it), then scrub the
/// frontmatter value and the body, repeating until the rendered result holds no finding
/// (at most three rounds). Returns the scrubbed frontmatter, body and the redactor used.
pub fn scrub_report(
    mut redactor: Redactor,
    frontmatter: &serde_norway::Value,
    body: &str,
) -> Result<(serde_norway::Value, String, Redactor), RedactError> {
    let mut fm = frontmatter.clone();
    let mut b = body.to_string();
    for _ in 0..3 {
        let yaml = serde_norway::to_string(&fm).unwrap_or_default();
        let rendered = format!("{yaml}\n{b}");
        let new = redactor.learn(&rendered)?;
        redactor.usable()?;
        if new == 0 && !redactor.leaks(&rendered) {
            return Ok((fm, b, redactor));
        }
        redactor.scrub_value(&mut fm);
        b = redactor.scrub(&b);
    }
    let yaml = serde_norway::to_string(&fm).unwrap_or_default();
    let rendered = format!("{yaml}\n{b}");
    if redactor.learn(&rendered)? == 0 && !redactor.leaks(&rendered) {
        Ok((fm, b, redactor))
    } else {
        Err(RedactError::NotConverged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_aws_key() -> String {
        // Built at runtime so this source file holds no key-shaped literal.
        format!("{}{}{}", "AK", "IA", "Q7XPLMZ4RT2KW6HN")
    }

    fn b64(s: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn redaction_keeps_at_most_a_short_prefix() {
        let s = "plain-words-only-xxxx";
        assert_eq!(redact(s), "plai…[REDACTED, 21 chars]");
        assert_eq!(redact("abcdefghijk"), "ab…[REDACTED, 11 chars]");
        assert_eq!(redact("short"), "[REDACTED, 5 chars]");
    }

    #[test]
    fn raw_hex_percent_and_base64_copies_at_every_alignment_are_replaced() {
        let secret = "s3cr3t-value-1234567890";
        let r = Redactor::new([secret]);
        for prefix in ["", "x", "xy", "xyz"] {
            let payload = format!("{prefix}{secret}!");
            let text = format!(
                "a {secret} b {} c {} d {} e {}",
                hex::encode(secret),
                b64(payload.as_bytes()),
                base64::engine::general_purpose::URL_SAFE.encode(payload.as_bytes()),
                secret
                    .bytes()
                    .map(|c| format!("%{c:02x}"))
                    .collect::<String>()
            );
            let out = r.scrub(&text);
            assert!(!r.leaks(&out), "{out}");
            assert!(!out.contains(secret), "{out}");
            assert!(!out.contains(&hex::encode(secret)), "{out}");
            assert!(out.contains(ENCODED_MARKER), "{out}");
        }
    }

    #[test]
    fn secrets_found_by_the_default_rules_are_learned() {
        let key = fake_aws_key();
        let text = format!("branch fix/{key} and {}", hex::encode(&key));
        let mut r = Redactor::new(std::iter::empty());
        assert_eq!(r.learn(&text).unwrap(), 1);
        let out = r.scrub(&text);
        assert!(
            !out.contains(&key) && !out.contains(&hex::encode(&key)),
            "{out}"
        );
        assert_eq!(scrub_line(&Redactor::default(), &text), out);
    }

    #[test]
    fn report_pass_scrubs_frontmatter_and_body() {
        let key = fake_aws_key();
        let fm: serde_norway::Value =
            serde_norway::from_str(&format!("branch: fix/{key}\nverdict: PASS\n")).unwrap();
        let (fm, body, _) = scrub_report(
            Redactor::default(),
            &fm,
            &format!("# {}\n", b64(key.as_bytes())),
        )
        .unwrap();
        let yaml = serde_norway::to_string(&fm).unwrap();
        assert!(!yaml.contains(&key), "{yaml}");
        assert!(!body.contains(&b64(key.as_bytes())[..12]), "{body}");
    }

    #[test]
    fn text_without_secrets_is_unchanged() {
        let r = Redactor::new(["s3cr3t-value"]);
        assert_eq!(r.scrub("nothing to see"), "nothing to see");
        assert_eq!(Redactor::new(["abc"]).scrub("abc"), "abc");
    }
}
