//! Fuzz target: any text through the gitleaks config parser, and any accepted config through
//! detector construction and a small scan. Nothing may panic (see `src/checks.rs`).
#![no_main]

#[path = "../src/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::config_parse(data));
