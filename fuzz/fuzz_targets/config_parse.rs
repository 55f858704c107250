//! Fuzz target: any text through the gitleaks config parser, and any accepted config through
//! detector construction and a small scan. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::detect::{DetectOptions, Detector, Fragment};
use portcullis::rules::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cfg) = Config::from_toml_str(text, std::path::Path::new("fuzz.toml")) else {
        return;
    };
    let _ = cfg.warnings();
    if let Ok(d) = Detector::new(cfg, DetectOptions::default()) {
        let mut out = Vec::new();
        d.scan(
            &Fragment {
                text: b"key = ghp_0123456789abcdefABCDEF0123456789abcd\npassword=hunter2\n",
                path: "a/b.txt",
                start_line: 1,
                ..Fragment::default()
            },
            &mut out,
        );
    }
});
