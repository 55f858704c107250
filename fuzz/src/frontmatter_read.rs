//! The `frontmatter_read` property (shared with `tests/fuzz_regressions.rs`): arbitrary bytes
//! as a gate report file, read back by the fail-closed verdict reader
//! (`report::read_verdict`, which reads the frontmatter with `report::frontmatter`).
//!
//! Nothing may panic, and:
//! * `split_frontmatter` returns pieces of the text with no fence line left in either;
//! * a report whose frontmatter cannot be read is FAIL, with the reason;
//! * a PASS or DEFER verdict comes from a known schema, and does not survive tampering: the
//!   same file cut just before its closing fence, or with a second frontmatter appended,
//!   reads as FAIL;
//! * the writer's rendering of an accepted frontmatter (with the same body) reads back with
//!   the same outcome.

#![allow(dead_code)] // each fuzz target uses one of the checks

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use portcullis::report::frontmatter::{FENCE, render_report, split_frontmatter};
use portcullis::report::{Outcome, Verdict, read_verdict};

/// A directory for the report files of this process.
fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("temporary directory: {e}"),
    })
    .path()
}

/// Write `bytes` to the report file `name` and read its verdict.
fn verdict_of(name: &str, bytes: &[u8]) -> Verdict {
    let path: PathBuf = scratch().join(name);
    if let Err(e) = std::fs::write(&path, bytes) {
        panic!("{}: {e}", path.display());
    }
    read_verdict(&path)
}

/// Whether `line` (with or without its line end) is a fence.
fn is_fence(line: &str) -> bool {
    line.trim_end_matches(['\n', '\r']) == FENCE
}

/// Arbitrary bytes as a report file (see the module docs).
pub fn frontmatter_read(data: &[u8]) {
    let v = verdict_of("report.md", data);
    if v.frontmatter.is_none() {
        assert_eq!(v.outcome, Outcome::Fail, "a verdict without a frontmatter");
        assert!(!v.reasons.is_empty(), "failed closed without saying why");
    }
    let Ok(text) = std::str::from_utf8(data) else {
        assert_eq!(
            v.outcome,
            Outcome::Fail,
            "a report that is not UTF-8 was accepted"
        );
        return;
    };
    let split = split_frontmatter(text);
    if let Ok((yaml, body)) = split {
        assert!(
            !yaml.split_inclusive('\n').any(is_fence),
            "a fence inside the frontmatter"
        );
        assert!(
            !body.split_inclusive('\n').any(is_fence),
            "a fence in the body"
        );
    }
    if v.outcome == Outcome::Fail {
        return;
    }
    let Ok((yaml, body)) = split else {
        panic!("{} without two fences", v.outcome);
    };
    assert!(
        v.schema.starts_with("portcullis/"),
        "{} from schema {:?}",
        v.outcome,
        v.schema
    );
    // Cut just before the closing fence: FAIL.
    let yaml_end = yaml.as_ptr() as usize - text.as_ptr() as usize + yaml.len();
    let cut = verdict_of("cut.md", &data[..yaml_end]);
    assert_eq!(
        cut.outcome,
        Outcome::Fail,
        "survives losing its closing fence"
    );
    // A second frontmatter appended: FAIL.
    let mut twice = text.to_string();
    if !twice.ends_with('\n') {
        twice.push('\n');
    }
    twice.push_str("---\nverdict: PASS\n---\n");
    let twice = verdict_of("twice.md", twice.as_bytes());
    assert_eq!(
        twice.outcome,
        Outcome::Fail,
        "survives a second frontmatter"
    );
    // The writer's rendering of what was accepted reads back alike.
    let Some(fm) = v.frontmatter.as_ref() else {
        panic!("{} without a frontmatter", v.outcome);
    };
    let rendered = match render_report(fm, body) {
        Ok(r) => r,
        Err(e) => panic!("an accepted frontmatter does not render: {e}"),
    };
    let again = verdict_of("rendered.md", rendered.as_bytes());
    assert_eq!(
        again.outcome, v.outcome,
        "the writer's rendering reads back as {} ({:?})",
        again.outcome, again.reasons
    );
}
