//! Big blobs without a size limit are streamed (decompressed chunk by chunk, never inflated
//! whole) when their header size is above `stream_above_bytes`: loose objects and whole pack
//! entries alike. Their secrets are found on the right line of the right commit and file, every
//! line counts as added (no line diff), and small blobs keep the normal path's results.

use crate::git_common;

use git_common::{TestRepo, filler, locations, scan, secret};
use portcullis::source::git::GitScanOptions;

/// Lowered threshold: the test blobs of ~600 KB are "big".
const LOW: u64 = 100_000;

fn opts(stream_above: Option<u64>) -> GitScanOptions {
    GitScanOptions {
        stream_above_bytes: stream_above,
        ..GitScanOptions::default()
    }
}

/// A repository with one small file and one big file whose secret sits near its end, in one
/// commit; returns the commit id.
fn big_blob_repo(r: &TestRepo) -> String {
    r.write("small.txt", format!("a\nkey = {}\n", secret("SMALLONE")));
    let mut big = filler(24_000);
    big.push_str(&format!("token = {}\n", secret("NEAREND")));
    big.push_str(&filler(5));
    r.write("data/big.txt", big);
    r.commit("add files")
}

fn assert_big_found(r: &TestRepo, head: &str) {
    let streamed = scan(r, &opts(Some(LOW)));
    assert!(streamed.errors.is_empty(), "{:?}", streamed.errors);
    assert!(streamed.incomplete.is_empty(), "{:?}", streamed.incomplete);
    assert_eq!(streamed.stats.blobs_streamed, 1);
    let found = locations(&streamed);
    assert!(
        found.contains(&(
            head.to_string(),
            "data/big.txt".into(),
            24_001,
            secret("NEAREND")
        )),
        "{found:?}"
    );
    // An added file: the normal path (whole blob, line diff) finds exactly the same.
    let whole = scan(r, &opts(None));
    assert_eq!(whole.stats.blobs_streamed, 0);
    assert_eq!(locations(&whole), found);
    assert_eq!(found.len(), 2);
}

#[test]
fn big_loose_blob_is_streamed_and_its_secret_found_on_the_right_line() {
    let r = TestRepo::new();
    let head = big_blob_repo(&r);
    let id = r.git(&["rev-parse", "HEAD:data/big.txt"]);
    assert!(r.loose_object(&id).is_file(), "the blob is loose");
    assert_big_found(&r, &head);
}

#[test]
fn big_packed_blob_is_streamed_and_its_secret_found_on_the_right_line() {
    let r = TestRepo::new();
    let head = big_blob_repo(&r);
    r.git(&["gc", "-q", "--prune=now"]);
    let id = r.git(&["rev-parse", "HEAD:data/big.txt"]);
    assert!(!r.loose_object(&id).exists(), "the blob is packed");
    assert_big_found(&r, &head);
}

/// With no line diff, a streamed blob reports the secrets its old version already had too (a
/// superset of the line diff: fail closed); the normal path reports only the new one.
#[test]
fn streamed_blob_counts_every_line_as_added() {
    let r = TestRepo::new();
    let mut big = filler(24_000);
    big.push_str(&format!("old = {}\n", secret("OLDLINE")));
    r.write("big.txt", &big);
    let first = r.commit("first");
    big.push_str(&format!("new = {}\n", secret("NEWLINE")));
    r.write("big.txt", &big);
    let second = r.commit("second");
    for packed in [false, true] {
        if packed {
            r.git(&["gc", "-q", "--prune=now"]);
        }
        let range = format!("{first}..{second}");
        let streamed = scan(
            &r,
            &GitScanOptions {
                revs: vec![range.clone()],
                ..opts(Some(LOW))
            },
        );
        assert!(streamed.errors.is_empty(), "{:?}", streamed.errors);
        let lines: Vec<(String, u32, String)> = locations(&streamed)
            .into_iter()
            .map(|(c, _, l, s)| (c, l, s))
            .collect();
        assert!(
            lines.contains(&(second.clone(), 24_002, secret("NEWLINE"))),
            "packed={packed}: {lines:?}"
        );
        // Packed, git keeps the newest version whole: it is streamed too.
        assert_eq!(streamed.stats.blobs_streamed, 1, "packed={packed}");
        assert!(
            lines.contains(&(second.clone(), 24_001, secret("OLDLINE"))),
            "packed={packed}: {lines:?}"
        );
        let diffed = scan(
            &r,
            &GitScanOptions {
                revs: vec![range],
                ..opts(None)
            },
        );
        assert_eq!(
            locations(&diffed)
                .into_iter()
                .map(|(_, _, l, s)| (l, s))
                .collect::<Vec<_>>(),
            vec![(24_002, secret("NEWLINE"))]
        );
    }
    // Loose, the new version is always streamed.
    let loose = TestRepo::new();
    let mut big = filler(24_000);
    big.push_str(&format!("old = {}\n", secret("OLDLINE")));
    loose.write("big.txt", &big);
    let first = loose.commit("first");
    big.push_str(&format!("new = {}\n", secret("NEWLINE")));
    loose.write("big.txt", &big);
    loose.commit("second");
    let rep = scan(
        &loose,
        &GitScanOptions {
            revs: vec![format!("{first}..HEAD")],
            ..opts(Some(LOW))
        },
    );
    assert_eq!(rep.stats.blobs_streamed, 1);
    assert_eq!(rep.findings.len(), 2, "{:?}", locations(&rep));
}

/// Blobs under the threshold, and every blob when a size limit is set, take the normal path:
/// the default threshold streams nothing in a history of small files, and its results equal
/// those of a scan that never streams.
#[test]
fn small_blobs_keep_the_normal_path() {
    let r = TestRepo::new();
    let mut text = filler(300);
    for i in 0..6 {
        text.push_str(&format!("k{i} = {}\n", secret(&format!("SMALL{i}"))));
        r.write("a.txt", &text);
        r.write(
            &format!("d/f{i}.txt"),
            format!("x\n{}\n", secret(&format!("F{i}"))),
        );
        r.commit(&format!("c{i}"));
    }
    let default = scan(&r, &GitScanOptions::default());
    assert_eq!(default.stats.blobs_streamed, 0);
    let never = scan(&r, &opts(None));
    assert_eq!(locations(&default), locations(&never));
    assert_eq!(default.findings.len(), 12);
    // A size limit turns streaming off: an oversize blob is skipped by its header as before.
    let r2 = TestRepo::new();
    big_blob_repo(&r2);
    let limited = scan(
        &r2,
        &GitScanOptions {
            max_target_megabytes: Some(1),
            ..opts(Some(LOW))
        },
    );
    assert_eq!(limited.stats.blobs_streamed, 0);
    assert_eq!(limited.findings.len(), 2);
}

/// A big blob stored as a delta in a pack is not streamed but read whole as before, and its
/// secret is still found (git stores the newest version whole and older ones as deltas).
#[test]
fn big_delta_blob_is_read_whole_and_still_found() {
    let r = TestRepo::new();
    let mut big = filler(24_000);
    big.push_str(&format!("old = {}\n", secret("INDELTA")));
    r.write("big.txt", &big);
    let first = r.commit("first");
    let old_id = r.git(&["rev-parse", "HEAD:big.txt"]);
    big.push_str("one more line\n");
    r.write("big.txt", &big);
    r.commit("second");
    r.git(&["gc", "-q", "--prune=now"]);
    let pack = std::fs::read_dir(r.path().join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .unwrap();
    let verify = r.git(&["verify-pack", "-v", pack.to_str().unwrap()]);
    let is_delta = verify
        .lines()
        .any(|l| l.starts_with(&old_id) && l.split_whitespace().count() >= 7);
    let rep = scan(
        &r,
        &GitScanOptions {
            revs: vec![first.clone()],
            ..opts(Some(LOW))
        },
    );
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    assert_eq!(
        locations(&rep),
        vec![(first, "big.txt".into(), 24_001, secret("INDELTA"))]
    );
    assert!(is_delta, "git stored the old version as a delta:\n{verify}");
    assert_eq!(rep.stats.blobs_streamed, 0);
}
