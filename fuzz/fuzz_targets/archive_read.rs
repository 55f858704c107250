//! Fuzz target: arbitrary bytes through the archive reader (zip, tar, gzip, nested) under
//! bomb limits; the first byte picks the file name and the limits (see `src/archive_read.rs`).
#![no_main]

#[path = "../src/archive_read.rs"]
mod archive_read;

libfuzzer_sys::fuzz_target!(|data: &[u8]| archive_read::archive_read(data));
