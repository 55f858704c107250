//! Secret scanning: gitleaks compatibility, the default rules, git history, directories, archives, reports and the verdict reader.
//!
//! One test binary per area keeps the suite quick to build: each binary links the library once.

// Unsafe code lives only in `portcullis-unsafe`; the tests use its safe functions.
#![forbid(unsafe_code)]

mod archives;
mod cli_shell;
mod compat_allowlist;
mod compat_composite;
mod compat_config;
mod compat_detect;
mod compat_ignore;
mod compat_robustness;
mod default_rules;
mod detect_common;
mod dir_gitignore;
mod fuzz_regressions;
mod git_cli;
mod git_common;
mod git_content;
mod git_differential;
mod git_history;
mod git_merges_renames;
mod git_messages;
mod git_path_gated;
mod git_stream;
mod gitleaks_diff;
mod might_find_superset;
mod module_graph;
mod progress;
mod readme_examples;
mod reports;
mod sarif_schema;
mod scan_api;
mod scan_cli;
mod scan_common;
mod verdict_reader;
mod windowed_equivalence;
