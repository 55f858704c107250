//! The security gate scans blob content as `scan dir` scans files, and content it could not
//! scan is a FAIL: a NUL byte does not hide a secret, `max_target_megabytes = 0` means no
//! limit, and a blob over the limit makes the secrets part incomplete.

use crate::security_common;

use portcullis::gate::security::{SecurityRequest, security};
use portcullis::report::Outcome;
use security_common::*;

fn gate(repo: &Repo, max_mb: Option<u64>) -> portcullis::report::Verdict {
    let mut req = SecurityRequest::new(repo.path());
    req.base = "main".into();
    req.overrides.max_target_megabytes = max_mb;
    security(&req)
}

#[test]
fn a_nul_byte_does_not_hide_a_secret_from_the_gate() {
    let r = Repo::with_test_config();
    r.checkout_new("task");
    std::fs::write(
        r.path().join("blob.dat"),
        format!("\0\nGITHUB_TOKEN={SECRET}\n"),
    )
    .unwrap();
    r.commit("add data");
    let v = gate(&r, None);
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
    assert!(
        v.reasons.iter().any(|x| x.contains("blob.dat:2")),
        "{:?}",
        v.reasons
    );
}

#[test]
fn max_target_megabytes_zero_scans_every_blob_in_the_gate() {
    let r = Repo::with_test_config();
    r.checkout_new("task");
    r.write("config/app.env", &format!("API_TOKEN={SECRET}\n"));
    r.commit("add config");
    let v = gate(&r, Some(0));
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
    assert!(
        v.reasons
            .iter()
            .any(|x| x.contains("test-token in config/app.env:1")),
        "{:?}",
        v.reasons
    );
}

#[test]
fn a_blob_over_the_size_limit_makes_the_gate_fail_as_incomplete() {
    let r = Repo::with_test_config();
    r.checkout_new("task");
    r.write("data/big.txt", &"z".repeat(1_500_000));
    r.commit("add big file");
    let v = gate(&r, Some(1));
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
    let all = v.reasons.join(" | ");
    assert!(
        all.contains("incomplete") && all.contains("data/big.txt"),
        "{all}"
    );
    let fm = v.frontmatter.unwrap();
    let status = fm.get("secrets").unwrap().get("status").unwrap().as_str();
    assert_eq!(status, Some("error"));
}

#[test]
fn an_archive_member_over_the_size_limit_makes_the_gate_fail_as_incomplete() {
    // The gate scans as `scan git` does: a member larger than the limit inside a small
    // (well-compressed) archive is content not scanned, not a member scanned whole.
    use std::io::Write as _;
    let r = Repo::with_test_config();
    r.checkout_new("task");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("inner/big.txt", opts).unwrap();
    zip.write_all("z".repeat(1_500_000).as_bytes()).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    assert!(
        bytes.len() < 1_000_000,
        "the archive itself is under the limit"
    );
    std::fs::write(r.path().join("data.zip"), bytes).unwrap();
    r.commit("add archive");
    let v = gate(&r, Some(1));
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
    let all = v.reasons.join(" | ");
    assert!(
        all.contains("incomplete") && all.contains("data.zip!inner/big.txt"),
        "{all}"
    );
}
