//! Fuzz target: arbitrary bytes as a gate report through the fail-closed verdict reader
//! (see `src/frontmatter_read.rs`).
#![no_main]

#[path = "../src/frontmatter_read.rs"]
mod frontmatter_read;

libfuzzer_sys::fuzz_target!(|data: &[u8]| frontmatter_read::frontmatter_read(data));
