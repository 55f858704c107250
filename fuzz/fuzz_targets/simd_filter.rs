//! Fuzz target: the SIMD keyword position filter and byte classifier of `portcullis-unsafe`
//! against their scalar references (see `src/simd_filter.rs`).
#![no_main]

#[path = "../src/simd_filter.rs"]
mod simd_filter;

libfuzzer_sys::fuzz_target!(|data: &[u8]| simd_filter::simd_filter(data));
