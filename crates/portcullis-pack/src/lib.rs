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
//! The crate forbids `unsafe_code`: what needs it (`madvise` of pack pages, resource usage,
//! inflating into uninitialised output buffers) is done through the safe functions of
//! `portcullis-unsafe`, the crate that holds every unsafe operation of portcullis.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod delta;
pub mod inflate;
pub mod packs;
pub mod resident;
pub mod trees;
pub mod walk;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
