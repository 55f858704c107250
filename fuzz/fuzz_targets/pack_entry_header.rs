//! Fuzz target: a pack entry header through `portcullis_pack::packs::parse_entry_header`,
//! differential against a decoder written from the pack format (see `src/pack.rs`).
#![no_main]

#[path = "../src/pack.rs"]
mod pack;

libfuzzer_sys::fuzz_target!(|data: &[u8]| pack::pack_entry_header(data));
