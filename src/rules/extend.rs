//! `[extend]`: merge a base config (the embedded default or another file) into a child.
//!
//! gitleaks semantics (config/config.go `extend`): every base rule not listed in
//! `disabledRules` is added; when the child has a rule with the same id, the base rule is the
//! starting point and the child overrides `description`, `entropy`, `secretGroup`, `regex`
//! and `path` when its value is non-zero/non-empty, and appends `tags`, `keywords` and
//! allowlists (base first). Base global allowlists are appended after the child's. After a
//! merge the rules are sorted by id. The chain stops at depth 2. Loading the base (and its
//! own bases) is [`super::load`]'s part.

use std::path::Path;

use super::Config;

/// Maximum `[extend]` depth: root → base → base-of-base.
pub(crate) const MAX_EXTEND_DEPTH: u32 = 2;

/// Merge `base` (named `name` in warnings) into `child`, leaving out `disabled` rules.
pub(crate) fn merge(
    child: &mut Config,
    base: Config,
    disabled: &[String],
    name: &str,
    origin: &Path,
) {
    for id in disabled {
        if !base.rules.iter().any(|r| &r.id == id) {
            child.warnings.push(format!(
                "{}: [extend] disabledRules names `{id}`, which the extended config ({name}) does not have",
                origin.display()
            ));
        }
    }
    child.warnings.extend(base.warnings);
    for base_rule in base.rules {
        if disabled.contains(&base_rule.id) {
            continue;
        }
        match child.rules.iter_mut().find(|r| r.id == base_rule.id) {
            None => child.rules.push(base_rule),
            Some(cur) => {
                let mut merged = base_rule;
                if !cur.description.is_empty() {
                    merged.description = std::mem::take(&mut cur.description);
                }
                if cur.entropy != 0.0 {
                    merged.entropy = cur.entropy;
                }
                if cur.secret_group != 0 {
                    merged.secret_group = cur.secret_group;
                }
                if cur.regex.is_some() {
                    merged.regex = cur.regex.take();
                    merged.regex_groups = cur.regex_groups;
                }
                if cur.path.is_some() {
                    merged.path = cur.path.take();
                }
                if cur.confidence.is_some() {
                    merged.confidence = cur.confidence;
                }
                if cur.verify.is_some() {
                    merged.verify = cur.verify;
                }
                merged.tags.append(&mut cur.tags);
                merged.keywords.append(&mut cur.keywords);
                merged.allowlists.append(&mut cur.allowlists);
                // `skipReport` and `required` are not merged by gitleaks: the base's stay.
                *cur = merged;
            }
        }
    }
    child.allowlists.extend(base.allowlists);
    child.rules.sort_by(|a, b| a.id.cmp(&b.id));
}
