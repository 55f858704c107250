//! Property test of the history engine's candidate test: `Detector::might_find(W)` must be
//! `true` whenever a scan of some run of whole lines of `W` (the lines a commit adds) reports a
//! finding. Rules use the assertions a fragment edge can change (`^`, `$`, `\z`, multi-line
//! `$`, `\B`), encoded secrets exercise the decode passes, and the rule examples of the
//! embedded default configuration exercise the real rules.

use std::path::Path;

use portcullis::detect::{DetectOptions, Detector, Fragment};
use portcullis::rules::Config;
use proptest::prelude::*;

/// Rule templates; `K` is replaced by the rule's keyword.
const TEMPLATES: &[&str] = &[
    r"^K[a-z0-9]{2,6}",
    r"K[a-z0-9]{2,6}$",
    r"K[a-z0-9]{2,6}\n\z",
    r"(?m)K[a-z0-9]+\n$",
    r"K[a-z0-9]+\s*\B",
    r"K=\S+(?:\s|$)",
    r"\AK.{0,8}",
    r"(?i)[\w.-]{0,8}?K[ \t\w.-]{0,4}[=:]{1,2}([\w.=-]{2,12})(?:[\x60'\x22\s;]|$)",
    r"K[\s\S]{0,6}$",
    r"K\b",
    r"(?m)^\s*K.{1,6}$",
];

const KEYWORDS: &[&str] = &["tok_", "key", "secret"];

/// Building blocks of the generated text: keywords, secret-like runs, whitespace, line ends,
/// and encodings of "tok_abcd1234" (base64, percent, Unicode escapes, hex).
const TOKENS: &[&str] = &[
    "tok_",
    "key",
    "KEY",
    "secret",
    "=",
    ":",
    "abc123",
    "zz9",
    " ",
    "\t",
    "\n",
    "\n",
    "\r\n",
    "x",
    "9",
    "\"",
    ";",
    "dG9rX2FiY2QxMjM0",
    "%74%6f%6b%5f%61%62%63%64",
    "\\u0074\\u006f\\u006b\\u005f",
    "U+0074 U+006F",
    "746f6b5f6162636431323334746f6b5f",
    // Encoded twice (base64 of percent escapes, base64 of `secret=` + base64), and a `U+`
    // run that takes a line end.
    "JTc0JTZmJTZiJTVmJTYxJTYyJTYzJTY0",
    "c2VjcmV0PWRHOXJYMkZpWTJReE1qTTA=",
    "U+0074\n",
];

fn detector(toml: &str) -> Detector {
    let cfg = Config::from_toml_str(toml, Path::new("superset.toml")).expect("valid config");
    Detector::new(cfg, DetectOptions::default()).expect("detector")
}

fn findings(d: &Detector, text: &[u8]) -> usize {
    let mut out = Vec::new();
    d.scan(
        &Fragment {
            text,
            path: "f.txt",
            start_line: 1,
            ..Fragment::default()
        },
        &mut out,
    );
    out.len()
}

/// Byte offsets of the line starts of `text`, plus `text.len()`.
fn line_bounds(text: &[u8]) -> Vec<usize> {
    let mut b = vec![0];
    for (i, &c) in text.iter().enumerate() {
        if c == b'\n' && i + 1 < text.len() {
            b.push(i + 1);
        }
    }
    b.push(text.len());
    b
}

/// Every run of whole lines of `text` that yields a finding must make `might_find` true.
fn check_all_fragments(d: &Detector, text: &[u8]) -> Result<(), TestCaseError> {
    if d.might_find(text) {
        return Ok(());
    }
    let b = line_bounds(text);
    let lines = b.len() - 1;
    for first in 0..lines {
        for last in first + 1..=lines {
            let frag = &text[b[first]..b[last]];
            prop_assert_eq!(
                findings(d, frag),
                0,
                "might_find said no, but lines {}..{} yield a finding: {:?} in {:?}",
                first + 1,
                last,
                String::from_utf8_lossy(frag),
                String::from_utf8_lossy(text)
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn might_find_is_a_superset_for_edge_sensitive_rules(
        t in 0..TEMPLATES.len(),
        k in 0..KEYWORDS.len(),
        toks in proptest::collection::vec(0..TOKENS.len(), 0..40),
    ) {
        let pattern = TEMPLATES[t].replace('K', KEYWORDS[k]);
        let toml = format!(
            "[[rules]]\nid = \"r\"\nregex = '''{pattern}'''\nkeywords = [\"{}\"]\n",
            KEYWORDS[k]
        );
        let d = detector(&toml);
        let text: String = toks.iter().map(|&i| TOKENS[i]).collect();
        check_all_fragments(&d, text.as_bytes())?;
    }

    #[test]
    fn might_find_is_a_superset_for_the_default_rules(
        picks in proptest::collection::vec((0usize..100_000, 0..TOKENS.len()), 1..8),
    ) {
        let d = default_detector();
        let examples = default_examples();
        let mut text = String::new();
        for (e, t) in picks {
            text.push_str(&examples[e % examples.len()]);
            text.push_str(TOKENS[t]);
            text.push('\n');
        }
        check_all_fragments(d, text.as_bytes())?;
    }
}

fn default_detector() -> &'static Detector {
    static D: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
    D.get_or_init(|| {
        Detector::new(Config::embedded_default(), DetectOptions::default()).expect("detector")
    })
}

/// The true- and false-positive examples of the default rules (`testdata/rules/*.toml`), each
/// line on its own, so the text holds real secrets in many formats and near-misses.
fn default_examples() -> &'static [String] {
    static E: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    E.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/rules");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("testdata/rules")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let mut out = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).expect("examples file");
            let t: toml::Table = toml::from_str(&text).expect("examples parse");
            for key in ["tp", "fp"] {
                for ex in t.get(key).and_then(|v| v.as_array()).into_iter().flatten() {
                    if let Some(s) = ex.as_str() {
                        out.extend(s.lines().map(str::to_string));
                    }
                }
            }
        }
        assert!(out.len() > 500, "only {} examples", out.len());
        out
    })
}

#[test]
fn blobs_whose_fragments_match_only_at_an_edge_are_candidates() {
    // `^tok_…` matches the second line as a fragment (its text starts there) but not the
    // whole blob; `…$` likewise matches the first line alone.
    let start =
        detector("[[rules]]\nid = \"r\"\nregex = '''^tok_[a-z0-9]{4}'''\nkeywords = [\"tok_\"]\n");
    let blob = b"header\ntok_abcd\n";
    assert_eq!(findings(&start, &blob[7..]), 1);
    assert!(start.might_find(blob));
    let end = detector(
        "[[rules]]\nid = \"r\"\nregex = '''tok_[a-z0-9]{4}\\n$'''\nkeywords = [\"tok_\"]\n",
    );
    let blob = b"tok_abcd\nfooter\n";
    assert_eq!(findings(&end, &blob[..9]), 1);
    assert!(end.might_find(blob));
}

#[test]
fn blobs_with_keywords_but_no_possible_match_are_not_candidates() {
    let d = detector("[[rules]]\nid = \"r\"\nregex = '''tok_[0-9]{8}'''\nkeywords = [\"tok_\"]\n");
    // The keyword occurs, so the older keyword-only test says "maybe"; no regex match can.
    let blob = b"let tok_ = parse(tok_name);\nfn tok_len() {}\n";
    assert!(d.might_match(blob));
    assert!(!d.might_find(blob));
    assert!(d.might_find(b"let t = tok_12345678;\n"));
    // Encoded: base64 of "tok_12345678" is only found by the decode pass.
    assert!(d.might_find(b"v = dG9rXzEyMzQ1Njc4\n"));
    assert_eq!(findings(&d, b"v = dG9rXzEyMzQ1Njc4\n"), 1);
}

/// Found by the property test: in the whole text the `U+` run (which takes the line end)
/// touches the percent run of the next line and is dropped for it, so the blob decodes
/// differently from its first line alone, whose decoded text `secretto` matches.
#[test]
fn unicode_run_touching_the_next_line_answers_maybe() {
    let d = detector(
        "[[rules]]\nid = \"r\"\nregex = '''^secret[a-z0-9]{2,6}'''\nkeywords = [\"secret\"]\n",
    );
    let text = b"secretU+0074 U+006F\n%74%6f%6b%5f%61%62%63%64";
    assert_eq!(findings(&d, b"secretU+0074 U+006F\n"), 1);
    assert!(d.might_find(text));
}

/// Unicode escapes that stay within their line do not make a blob a candidate by themselves;
/// an escaped secret still does, and so does a `U+` run that takes a line end.
#[test]
fn line_local_unicode_escapes_are_decided() {
    let d =
        detector("[[rules]]\nid = \"r\"\nregex = '''tok_[a-z0-9]{4}'''\nkeywords = [\"tok_\"]\n");
    assert!(!d.might_find(b"caf\\u00e9 na\\u00efve\nU+00E9 LATIN SMALL LETTER E\n"));
    assert!(d.might_find(b"x = \\u0074\\u006f\\u006b\\u005fabcd\n"));
    assert!(d.might_find(b"U+00E9\nU+00E8\n"));
}
