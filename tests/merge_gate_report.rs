//! Merge reports read back through the shared fail-closed reader: contradictions make FAIL.

use portcullis::report::frontmatter::write_report;
use portcullis::report::{Outcome, read_verdict};
use serde_norway::{Mapping, Value};

const SHA: &str = "89abcdef0123456789abcdef0123456789abcdef";

fn pass_report() -> Mapping {
    let mut m = Mapping::new();
    for (k, v) in [
        ("schema", Value::from("portcullis/merge-report/v1")),
        ("verdict", Value::from("PASS")),
        ("base_sha", Value::from(SHA)),
        ("tested_sha", Value::from(SHA)),
        ("fencing_token", Value::from(7u64)),
        ("lease_held", Value::from(true)),
    ] {
        m.insert(Value::from(k), v);
    }
    m
}

fn read(m: &Mapping) -> portcullis::report::Verdict {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("merge-report.md");
    write_report(&p, m, "# Merge gate\n").unwrap();
    read_verdict(&p)
}

#[test]
fn complete_pass_reads_as_pass() {
    assert_eq!(read(&pass_report()).outcome, Outcome::Pass);
}

#[test]
fn pass_missing_evidence_or_contradicting_itself_reads_as_fail() {
    for key in ["base_sha", "tested_sha", "fencing_token"] {
        let mut m = pass_report();
        m.remove(key);
        let v = read(&m);
        assert_eq!(v.outcome, Outcome::Fail, "without {key}");
        assert!(v.reasons[0].contains(key), "{:?}", v.reasons);
    }
    let mut m = pass_report();
    m.insert("reason".into(), "conflict".into());
    assert_eq!(read(&m).outcome, Outcome::Fail);
}

#[test]
fn defer_and_fail_need_their_fields() {
    let mut m = Mapping::new();
    m.insert("schema".into(), "portcullis/merge-report/v1".into());
    m.insert("verdict".into(), "DEFER".into());
    m.insert("holder".into(), "task-9".into());
    assert_eq!(
        read(&m).outcome,
        Outcome::Fail,
        "DEFER without held_since/retry"
    );
    m.insert("held_since".into(), "2026-01-01T00:00:00Z".into());
    m.insert("retry_after_s".into(), Value::from(40u64));
    assert_eq!(read(&m).outcome, Outcome::Defer);

    m.insert("verdict".into(), "FAIL".into());
    assert_eq!(read(&m).outcome, Outcome::Fail);
    assert!(
        read(&m).reasons[0].contains("reason"),
        "FAIL without reason is untrusted"
    );
    m.insert("reason".into(), "test_timeout".into());
    let v = read(&m);
    assert_eq!((v.outcome, v.frontmatter.is_some()), (Outcome::Fail, true));
    assert_eq!(
        v.reasons,
        Vec::<String>::new(),
        "a valid FAIL keeps its own reasons"
    );
}
