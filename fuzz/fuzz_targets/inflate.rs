//! Fuzz target: a zlib stream and a declared size through `portcullis_pack::inflate`,
//! differential against zlib-rs (see `src/pack.rs`).
#![no_main]

#[path = "../src/pack.rs"]
mod pack;

libfuzzer_sys::fuzz_target!(|data: &[u8]| pack::inflate(data));
