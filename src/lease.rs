//! The crash-safe per-repository merge lease.
