//! Helpers shared by the detection-semantics tests (`compat_*`): a detector built from a
//! TOML config, and one fragment scanned with it.

#![allow(dead_code)]

use std::path::Path;

use portcullis::detect::{DetectOptions, Detector, Fragment};
use portcullis::report::finding::Finding;
use portcullis::rules::Config;

/// A detector for the config `toml` with `opts`; panics when the config is invalid.
pub fn detector_with(toml: &str, opts: DetectOptions) -> Detector {
    let cfg = Config::from_toml_str(toml, Path::new("test.toml")).expect("valid config");
    Detector::new(cfg, opts).expect("detector")
}

/// A detector for the config `toml` with the default options.
pub fn detector(toml: &str) -> Detector {
    detector_with(toml, DetectOptions::default())
}

/// The findings of `text` as the file `path` of commit `commit` (empty: not in git),
/// starting at line 1.
pub fn scan_at(d: &Detector, text: &str, path: &str, commit: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    d.scan(
        &Fragment {
            text: text.as_bytes(),
            path,
            commit,
            start_line: 1,
            ..Fragment::default()
        },
        &mut out,
    );
    out
}
