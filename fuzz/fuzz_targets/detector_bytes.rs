//! Fuzz target: arbitrary bytes through the detector with the embedded default rules
//! (decoding on), checking that findings point inside the input and never panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portcullis::detect::{DetectOptions, Detector, Fragment};
use portcullis::rules::Config;

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| {
        Detector::new(Config::embedded_default(), DetectOptions::default()).expect("default")
    })
}

fuzz_target!(|data: &[u8]| {
    let d = detector();
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
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    for f in &out {
        assert!(f.start_line <= f.end_line || f.start_line == 0);
        assert!(f.end_line <= lines + 1, "line {} of {lines}", f.end_line);
    }
    let _ = d.might_match(data);
});
