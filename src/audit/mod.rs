//! Dependency audit: lockfile parsers and advisory databases (RustSec, OSV), offline first.
