//! The real work of the security gate: merge-base, history scan, range audit.

use super::{DepsPart, SecretsPart, WorkInput, WorkOutput};

/// Placeholder until the history engine and the audit are merged: fails closed.
pub(crate) fn run(input: WorkInput) -> WorkOutput {
    let msg = format!(
        "this build has no history scanner / dependency audit (repo {}, {}..{}, config {:?}, \
         {} db(s), max {:?} MB)",
        input.repo.display(),
        input.base,
        input.head,
        input.config,
        input.audit.dbs.len(),
        input.max_target_megabytes
    );
    WorkOutput {
        merge_base: None,
        head_commit: None,
        secrets: SecretsPart::error(msg.clone()),
        deps: DepsPart::error(msg),
        config: None,
        config_sha256: None,
    }
}
