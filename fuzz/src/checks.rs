//! The properties the fuzz targets check, shared with `tests/fuzz_regressions.rs` (which runs
//! them on stable over every file in `fuzz/corpus/` and `fuzz/regressions/`): the same code
//! runs under libFuzzer and in `cargo test`.

#![allow(dead_code)] // each fuzz target uses one of the checks

use std::path::Path;
use std::sync::OnceLock;

use portcullis::detect::{DetectOptions, Detector, Fragment};
use portcullis::report::finding::Finding;
use portcullis::rules::Config;

/// Text scanned with every config that `config_parse` accepts.
const SAMPLE: &[u8] = b"key = ghp_0123456789abcdefABCDEF0123456789abcd\npassword=hunter2\n\
api_secret = \"Zq81LmPw0xRt5VbN7cYd\"\nYWNtZV9saXZlX2I2NGRlY29kZWRrZXkwMTIzNDU2Nzg5\n\
%61cme_live_p3rc3nt \\u0061bc\n-----BEGIN FAKE KEY-----\nQUJD\n-----END FAKE KEY-----\n";

/// Any text through the gitleaks config parser; any accepted config through detector
/// construction and a scan of a small sample (plus the input itself). Nothing may panic,
/// and the findings must be well-formed.
pub fn config_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cfg) = Config::from_toml_str(text, Path::new("fuzz.toml")) else {
        return;
    };
    let _ = cfg.warnings();
    let _ = cfg.rules().len();
    let Ok(d) = Detector::new(cfg, DetectOptions::default()) else {
        return;
    };
    for (text, path) in [(SAMPLE, "a/b.txt"), (data, "fuzz/config.toml")] {
        let mut out = Vec::new();
        d.scan(
            &Fragment {
                text,
                path,
                start_line: 1,
                ..Fragment::default()
            },
            &mut out,
        );
        check_findings(text, &out);
        let _ = d.might_match(text);
        let _ = d.path_allowed_globally(path);
    }
}

/// The detector with the embedded default rules (built once).
fn default_detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(
        || match Detector::new(Config::embedded_default(), DetectOptions::default()) {
            Ok(d) => d,
            Err(e) => panic!("the embedded default config must build: {e}"),
        },
    )
}

/// Arbitrary bytes through the detector with the embedded default rules (decoding on):
/// nothing may panic, findings point inside the input, `might_match` is a superset prefilter
/// (false means no regex finding) and so is `might_find` for every run of whole lines.
pub fn detector_bytes(data: &[u8]) {
    let d = default_detector();
    let mut out = Vec::new();
    d.scan(
        &Fragment {
            text: data,
            path: "fuzz/input.txt",
            start_line: 1,
            ..Fragment::default()
        },
        &mut out,
    );
    check_findings(data, &out);
    if !d.might_find(data) {
        check_no_fragment_finds(d, data);
    }
    if !d.might_match(data) {
        let regex_findings: Vec<&Finding> = out.iter().filter(|f| f.start_line != 0).collect();
        assert!(
            regex_findings.is_empty(),
            "might_match said false but scan found {:?}",
            regex_findings
                .iter()
                .map(|f| &f.rule_id)
                .collect::<Vec<_>>()
        );
    }
}

/// `might_find` said no for `data`: then no run of whole lines of it may yield a regex finding
/// (checked for the whole input, every line, and every prefix and suffix of whole lines).
fn check_no_fragment_finds(d: &Detector, data: &[u8]) {
    let mut starts = vec![0];
    starts.extend(
        data.iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\n' && i + 1 < data.len())
            .map(|(i, _)| i + 1),
    );
    starts.push(data.len());
    let n = starts.len() - 1;
    let mut runs: Vec<(usize, usize)> = vec![(0, n)];
    for i in 0..n.min(64) {
        runs.extend([(i, i + 1), (0, i + 1), (i, n)]);
    }
    for (a, b) in runs {
        let frag = &data[starts[a]..starts[b]];
        let mut out = Vec::new();
        d.scan(
            &Fragment {
                text: frag,
                path: "fuzz/input.txt",
                start_line: 1,
                ..Fragment::default()
            },
            &mut out,
        );
        let rules: Vec<&str> = out
            .iter()
            .filter(|f| f.start_line != 0)
            .map(|f| f.rule_id.as_str())
            .collect();
        assert!(
            rules.is_empty(),
            "might_find said false but lines {}..{} yield {rules:?}",
            a + 1,
            b
        );
    }
}

/// Findings of a fragment that starts at line 1: lines and columns within the text.
fn check_findings(text: &[u8], out: &[Finding]) {
    let lines = text.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    for f in out {
        if f.start_line == 0 {
            // path-only finding
            assert_eq!(
                f.end_line, 0,
                "path finding with an end line: {}",
                f.rule_id
            );
            continue;
        }
        assert!(
            f.start_line <= f.end_line,
            "{}: start line {} after end line {}",
            f.rule_id,
            f.start_line,
            f.end_line
        );
        assert!(
            f.end_line <= lines,
            "{}: line {} of {lines}",
            f.rule_id,
            f.end_line
        );
        assert!(!f.fingerprint.is_empty(), "{}: no fingerprint", f.rule_id);
    }
}
