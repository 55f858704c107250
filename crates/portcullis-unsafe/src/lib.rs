//! Every unsafe operation of portcullis, behind safe and documented functions and types.
//!
//! The root crate (`portcullis`) and the pack crate (`portcullis-pack`) are
//! `#![forbid(unsafe_code)]`; whatever they need that Rust cannot check is here, one small
//! module per kind, each opted in with `#[expect(unsafe_code, reason = "…")]` while this crate
//! root denies unsafe code everywhere else:
//!
//! * [`simd`]: the keyword prefilter's position filter (a set of 20-bit codes of four-byte
//!   windows, searched eight positions at a time with AVX2 or sixteen with AVX-512) and the
//!   64-byte class classifier of the decoder. Unsafe because vector intrinsics load and gather
//!   through raw pointers and may only run on a CPU with the features: the safe entry points
//!   detect the features at run time and never use a level the CPU lacks, and every load is
//!   bounds-checked against the slice before it is issued.
//! * [`process`]: signals to processes and process groups, pidfds, `waitid` without reaping,
//!   the parent-death signal armed between `fork` and `exec`, `getuid`, `geteuid`,
//!   `gethostname`, and the system-wide monotonic and thread CPU clocks. Unsafe
//!   because they are C functions (FFI); none has a memory-safety precondition beyond valid
//!   buffers, which the wrappers own.
//! * [`memory`]: the page size, `madvise(MADV_DONTNEED)` of read-only file mappings, resource
//!   usage (`getrusage`) and `malloc_trim`. `MADV_DONTNEED` zeroes anonymous memory, so it is
//!   only ever applied to ranges that `/proc/self/maps` shows to be read-only file mappings,
//!   and that are kept mapped while it runs.
//! * [`map`]: read-only memory maps of files (memmap2), for scanning large files.
//! * [`inflate`]: zlib inflation (zlib-rs) straight into a vector's uninitialised spare
//!   capacity, whose length is then set to what the inflater initialised.
//!
//! How it is checked: the workspace lints deny unsafe operations in unsafe functions without
//! their own block (`unsafe_op_in_unsafe_fn`), blocks without a `// SAFETY:` comment
//! (`clippy::undocumented_unsafe_blocks`) and blocks with more than one unsafe operation
//! (`clippy::multiple_unsafe_ops_per_block`). The unit tests compare every vector level the
//! CPU has with a scalar reference, and run under Miri (`cargo +nightly miri test -p
//! portcullis-unsafe`, with `RUSTFLAGS="-C target-feature=+avx2"` for the AVX2 loops; FFI tests
//! are ignored there). The `simd_filter` fuzz target compares the vector search and classifier
//! with the scalar references on arbitrary input under AddressSanitizer.

#![deny(unsafe_code, missing_docs)]

#[expect(
    unsafe_code,
    reason = "zlib inflation into uninitialised spare capacity"
)]
pub mod inflate;
#[expect(unsafe_code, reason = "memory maps of files")]
pub mod map;
#[expect(
    unsafe_code,
    reason = "page size, madvise, getrusage and malloc_trim (FFI)"
)]
pub mod memory;
#[expect(
    unsafe_code,
    reason = "signals, pidfds, waitid, prctl, user ids, host name, clocks (FFI)"
)]
pub mod process;
#[expect(
    unsafe_code,
    reason = "SIMD intrinsics that load, gather and store through pointers"
)]
pub mod simd;
