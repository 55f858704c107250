//! Where bytes come from: git history, directories, stdin.
