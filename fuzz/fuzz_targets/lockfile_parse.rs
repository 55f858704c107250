//! Fuzz target: arbitrary bytes through every lockfile parser; the first byte picks the format
//! (see `src/lockfile_parse.rs`).
#![no_main]

#[path = "../src/lockfile_parse.rs"]
mod lockfile_parse;

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockfile_parse::lockfile_parse(data));
