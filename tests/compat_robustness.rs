//! Fail closed, never panic: arbitrary bytes through the detector and arbitrary config text
//! through the parser (the stable-toolchain counterpart of the `fuzz/` targets).

use std::path::Path;
use std::sync::OnceLock;

use portcullis::detect::{DetectOptions, Detector, Fragment};
use portcullis::rules::Config;
use proptest::prelude::*;

fn default_detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| Detector::new(Config::embedded_default(), DetectOptions::default()).unwrap())
}

const PIECES: &[&str] = &[
    "ghp_",
    "AKIA",
    "key",
    "password",
    "=",
    "\"",
    "\n",
    "\r\n",
    " ",
    "\t",
    "%41",
    "%",
    "\\u0041",
    "U+0041 ",
    "dG9rX2FiY2QxMjM0",
    "0123456789abcdef",
    "-----BEGIN PRIVATE KEY-----",
    "gitleaks:allow",
    "\u{0}",
    "\u{ff}",
    "é",
    "=",
    "==",
    "+/",
    "secret",
    "token",
    "A",
    "z",
    "9",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn detector_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut out = Vec::new();
        default_detector().scan(&Fragment { text: &bytes, path: "x", start_line: 1, ..Fragment::default() }, &mut out);
        let _ = default_detector().might_match(&bytes);
    }

    #[test]
    fn detector_never_panics_on_token_soup(toks in proptest::collection::vec(0..PIECES.len(), 0..200), start in 0u32..5) {
        let text: String = toks.iter().map(|&i| PIECES[i]).collect();
        let mut out = Vec::new();
        default_detector().scan(&Fragment { text: text.as_bytes(), path: "", start_line: start, ..Fragment::default() }, &mut out);
        let lines = text.matches('\n').count() as u32 + start + 1;
        for f in &out {
            prop_assert!(f.end_line <= lines);
            prop_assert!(!f.fingerprint.is_empty());
        }
    }

    #[test]
    fn config_parser_never_panics(s in "[\\[\\]a-zA-Z=\"'{}(),.\\\\ \n0-9?*+|^$-]{0,300}") {
        if let Ok(c) = Config::from_toml_str(&s, Path::new("p.toml")) {
            let _ = Detector::new(c, DetectOptions::default());
        }
    }

    #[test]
    fn arbitrary_rule_regex_is_accepted_or_rejected_cleanly(re in "[a-z(){}\\[\\]\\\\^$.*+?|:0-9,<>PQE-]{0,40}") {
        let toml = format!("[[rules]]\nid = \"r\"\nregex = '''{re}'''\n");
        match Config::from_toml_str(&toml, Path::new("p.toml")) {
            Ok(c) => {
                let d = Detector::new(c, DetectOptions::default()).unwrap();
                let mut out = Vec::new();
                d.scan(&Fragment { text: b"abc ( key=1 )\nxyz", path: "a", start_line: 1, ..Fragment::default() }, &mut out);
            }
            Err(e) => {
                let m = e.to_string();
                prop_assert!(!m.contains('\n'));
                prop_assert!(m.contains("p.toml"));
            }
        }
    }
}
