//! Where bytes come from: git history, directories, stdin.
pub mod git;
