//! Fuzz target: arbitrary bytes through the detector with the embedded default rules
//! (decoding on): no panic, findings inside the input, `might_match` a superset prefilter
//! (see `src/checks.rs`).
#![no_main]

#[path = "../src/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::detector_bytes(data));
