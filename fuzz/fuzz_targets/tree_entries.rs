//! Fuzz target: a tree object through `portcullis_pack::trees::parse_tree_entries`,
//! differential against gix-object's `TreeRefIter` (see `src/pack.rs`).
#![no_main]

#[path = "../src/pack.rs"]
mod pack;

libfuzzer_sys::fuzz_target!(|data: &[u8]| pack::tree_entries(data));
