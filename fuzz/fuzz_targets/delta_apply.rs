//! Fuzz target: a base and a git delta through `portcullis_pack::delta::apply_delta`,
//! differential against gix-pack (see `src/pack.rs`).
#![no_main]

#[path = "../src/pack.rs"]
mod pack;

libfuzzer_sys::fuzz_target!(|data: &[u8]| pack::delta_apply(data));
