//! Pack-level plumbing of portcullis: reading a Git repository's packs directly.
//!
//! Everything here parses bytes from the packs of whatever repository a scan is pointed at,
//! so every parser is total (damaged input yields `None`, never a panic) and is reachable as
//! a public function for fuzzing:
//! * [`inflate::inflate_into`] inflates a zlib stream of known size (zlib-rs),
//! * [`delta::apply_delta`] applies a git delta to its base,
//! * [`packs::parse_entry_header`] parses a pack entry header,
//! * [`trees::parse_tree_entries`] parses a tree object's entries.
//!
//! The crate denies `unsafe_code`; the modules that need it (memory-mapped pack pages and
//! `madvise`, uninitialised output buffers) say so with `#[expect(unsafe_code)]`, and every
//! unsafe block carries a `SAFETY:` comment and a single unsafe operation.

#![deny(unsafe_code, missing_docs)]

pub mod delta;
#[expect(
    unsafe_code,
    reason = "inflating into the uninitialised spare capacity of a buffer"
)]
pub mod inflate;
pub mod packs;
#[expect(unsafe_code, reason = "madvise on registered pack mappings; getrusage")]
pub mod resident;
pub mod trees;
pub mod walk;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
