//! History scans on repositories built with the real git CLI: every planted secret is found
//! with its exact commit, file and line, and nothing else is reported.

use crate::git_common;

use git_common::{TestRepo, filler, locations, revs, scan, secret};
use portcullis::source::git::GitScanOptions;

fn loc(commit: &str, file: &str, line: u32, s: &str) -> (String, String, u32, String) {
    (commit.to_string(), file.to_string(), line, s.to_string())
}

#[test]
fn added_lines_renames_crlf_unicode_paths_and_big_files() {
    let r = TestRepo::new();
    let (a, b, c, d, e, f) = (
        secret("A1"),
        secret("B2"),
        secret("C3"),
        secret("D4"),
        secret("E5"),
        secret("F6"),
    );
    // Root commit: every line is added.
    r.write(
        "config.txt",
        format!("x = 1\ny = 2\ntoken = {a}\n{}", filler(20)),
    );
    let c1 = r.commit("root");
    // Second commit: A stays (not re-reported), B is added at line 5.
    r.write(
        "config.txt",
        format!(
            "x = 1\ny = 2\ntoken = {a}\nz = 3\nkey = {b}\n{}",
            filler(20)
        ),
    );
    let c2 = r.commit("add b");
    // Rename with an edit: File is the new path, the line is in the new file.
    std::fs::remove_file(r.path().join("config.txt")).unwrap();
    r.write(
        "conf/renamed config.txt",
        format!(
            "x = 1\ny = 2\ntoken = {a}\nz = 3\nkey = {b}\n{}other = {c}\n",
            filler(20)
        ),
    );
    let c3 = r.commit("rename and add c");
    // CRLF, non-ASCII path, 2 MB file with a secret deep inside, binary file with a secret.
    r.write("crlf.ini", format!("[s]\r\npassword = {d}\r\nend\r\n"));
    r.write("dïr ünï/naïve fïle.txt", format!("hello\n{e}\n"));
    let big = format!("{}deep = {f}\n{}", filler(80_000), filler(10));
    assert!(big.len() > 2_000_000);
    r.write("big/data.txt", &big);
    let mut bin = vec![0u8, 1, 2, 3, 0, 0];
    bin.extend_from_slice(secret("BIN7").as_bytes());
    r.write("image.bin", bin);
    let c4 = r.commit("misc");

    let rep = scan(&r, &GitScanOptions::default());
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    assert_eq!(rep.commits_scanned, 4);
    assert_eq!(locations(&rep), {
        let mut v = vec![
            loc(&c1, "config.txt", 3, &a),
            loc(&c2, "config.txt", 5, &b),
            loc(&c3, "conf/renamed config.txt", 26, &c),
            loc(&c4, "crlf.ini", 2, &d),
            loc(&c4, "dïr ünï/naïve fïle.txt", 2, &e),
            loc(&c4, "big/data.txt", 80_001, &f),
            // A NUL byte does not hide a secret (the blob is scanned as `scan dir` scans it).
            loc(&c4, "image.bin", 1, &secret("BIN7")),
        ];
        v.sort();
        v
    });
    // Metadata as gitleaks reports it.
    let fb = rep.findings.iter().find(|x| x.secret == b).unwrap();
    assert_eq!(fb.author, "Alice Author");
    assert_eq!(fb.email, "alice@example.com");
    assert_eq!(fb.message, "add b");
    assert!(
        fb.date.ends_with('Z') && fb.date.starts_with("2023-11-14T"),
        "{}",
        fb.date
    );
    assert_eq!(fb.fingerprint, format!("{c2}:config.txt:test-secret:5"));
}

#[test]
fn merge_resolution_branches_orphans_tags_and_stash() {
    let r = TestRepo::new();
    let (base, ours, theirs, resolved) = (
        secret("BASE1"),
        secret("OURS2"),
        secret("THEIRS3"),
        secret("RESOLVED4"),
    );
    r.write("app.cfg", format!("{}mid\n{}", filler(5), filler(5)));
    r.write("base.txt", format!("b = {base}\n"));
    let c_base = r.commit("base");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write(
        "app.cfg",
        format!("{}mid = {theirs}\n{}", filler(5), filler(5)),
    );
    let c_theirs = r.commit("feature change");
    r.git(&["checkout", "-q", "main"]);
    r.write(
        "app.cfg",
        format!("{}mid = {ours}\n{}", filler(5), filler(5)),
    );
    let c_ours = r.commit("main change");
    let out = r.git_raw(&["merge", "-q", "feature", "-m", "merge feature"]);
    assert!(!out.status.success(), "expected a conflict");
    // The resolution keeps neither side and introduces a new secret.
    r.write(
        "app.cfg",
        format!("{}mid = {resolved}\n{}", filler(5), filler(5)),
    );
    r.git(&["add", "app.cfg"]);
    r.git(&["commit", "-q", "--no-edit"]);
    let c_merge = r.head();

    // Orphan branch with its own secret.
    let orphan = secret("ORPHAN5");
    r.git(&["checkout", "-q", "--orphan", "lonely"]);
    r.git(&["rm", "-rfq", "."]);
    r.write("o.txt", format!("{orphan}\n"));
    let c_orphan = r.commit("orphan root");
    // A commit reachable only through an annotated tag.
    r.git(&["checkout", "-q", "-b", "tagged", "main"]);
    let tagged = secret("TAGGED6");
    r.write("t.txt", format!("first\n{tagged}\n"));
    let c_tag = r.commit("tagged");
    r.git(&["tag", "-a", "v1", "-m", "release"]);
    r.git(&["checkout", "-q", "main"]);
    r.git(&["branch", "-D", "tagged"]);
    // A stash with an unstaged change (its work-tree commit is a merge: lines in no parent).
    let stashed = secret("STASH7");
    r.write("base.txt", format!("b = {base}\ns = {stashed}\n"));
    r.git(&["stash", "-q"]);
    let c_stash = r.git(&["rev-parse", "refs/stash"]);

    let rep = scan(&r, &GitScanOptions::default());
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    let mut want = vec![
        loc(&c_base, "base.txt", 1, &base),
        loc(&c_theirs, "app.cfg", 6, &theirs),
        loc(&c_ours, "app.cfg", 6, &ours),
        loc(&c_merge, "app.cfg", 6, &resolved),
        loc(&c_orphan, "o.txt", 1, &orphan),
        loc(&c_tag, "t.txt", 2, &tagged),
        loc(&c_stash, "base.txt", 2, &stashed),
    ];
    want.sort();
    assert_eq!(locations(&rep), want);
}

#[test]
fn ranges_see_only_their_commits() {
    let r = TestRepo::new();
    let (on_main, on_feature, later_main) = (secret("MAIN1"), secret("FEAT2"), secret("LATER3"));
    r.write("a.txt", format!("{on_main}\n"));
    let c_main = r.commit("main secret");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("b.txt", format!("x\n{on_feature}\n"));
    let c_feat = r.commit("feature secret");
    r.write("c.txt", "no secret\n");
    let c_feat2 = r.commit("feature plain");
    r.git(&["checkout", "-q", "main"]);
    r.write("d.txt", format!("{later_main}\n"));
    let c_later = r.commit("later main");

    let rep = scan(&r, &revs(&["main..feature"]));
    assert_eq!(locations(&rep), vec![loc(&c_feat, "b.txt", 2, &on_feature)]);
    assert_eq!(rep.commits_scanned, 2);
    // Same range written as two revisions, and as ^exclude.
    assert_eq!(
        locations(&scan(&r, &revs(&["feature ^main"]))),
        locations(&rep)
    );
    assert_eq!(
        locations(&scan(&r, &revs(&["feature", "^main"]))),
        locations(&rep)
    );
    // Symmetric difference: both sides since the merge base.
    let sym = scan(&r, &revs(&["main...feature"]));
    let mut want = vec![
        loc(&c_feat, "b.txt", 2, &on_feature),
        loc(&c_later, "d.txt", 1, &later_main),
    ];
    want.sort();
    assert_eq!(locations(&sym), want);
    // One revision = its whole history.
    assert_eq!(scan(&r, &revs(&["main"])).commits_scanned, 2);
    // --since-commit.
    let since = scan(
        &r,
        &GitScanOptions {
            revs: vec!["feature".into()],
            since_commit: Some(c_feat.clone()),
            ..Default::default()
        },
    );
    assert_eq!(since.commits_scanned, 1);
    assert!(since.findings.is_empty());
    let _ = (c_main, c_feat2);
    // Unknown revisions are errors naming the revision.
    let err = portcullis::source::git::scan_history_with(
        r.path(),
        &git_common::RegexScanner::default(),
        &revs(&["nope..main"]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn staged_and_uncommitted_scans() {
    let r = TestRepo::new();
    let committed = secret("COMMITTED1");
    r.write("a.txt", format!("one\n{committed}\n"));
    r.commit("first");
    let staged = secret("STAGED2");
    let unstaged = secret("UNSTAGED3");
    r.write("a.txt", format!("one\n{committed}\n{staged}\n"));
    r.write("new file.txt", format!("{staged}\n"));
    r.git(&["add", "-A"]);
    r.write("a.txt", format!("one\n{committed}\n{staged}\n{unstaged}\n"));

    let st = scan(
        &r,
        &GitScanOptions {
            staged: true,
            ..Default::default()
        },
    );
    let mut want = vec![
        loc("", "a.txt", 3, &staged),
        loc("", "new file.txt", 1, &staged),
    ];
    want.sort();
    assert_eq!(locations(&st), want);
    assert!(
        st.findings
            .iter()
            .all(|f| f.fingerprint == format!("{}:test-secret:{}", f.file, f.start_line))
    );

    let wt = scan(
        &r,
        &GitScanOptions {
            uncommitted: true,
            ..Default::default()
        },
    );
    let mut want = vec![
        loc("", "a.txt", 3, &staged),
        loc("", "a.txt", 4, &unstaged),
        loc("", "new file.txt", 1, &staged),
    ];
    want.sort();
    assert_eq!(locations(&wt), want);
}

#[test]
fn dedup_keeps_earliest_commit_and_counts() {
    let r = TestRepo::new();
    let s = secret("DUP1");
    r.write("base.txt", "base\n");
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "side"]);
    r.write("k.txt", format!("{s}\n"));
    let first = r.commit("on side");
    r.git(&["checkout", "-q", "main"]);
    r.write("other.txt", "x\n");
    r.commit("main moves");
    r.git(&["cherry-pick", &first]);
    let picked = r.head();
    assert_ne!(first, picked);

    let all = scan(&r, &GitScanOptions::default());
    assert_eq!(all.findings.len(), 2);
    let d = scan(
        &r,
        &GitScanOptions {
            dedup: true,
            ..Default::default()
        },
    );
    assert_eq!(d.findings.len(), 1);
    assert_eq!(d.findings[0].commit, first);
    assert_eq!(d.findings[0].commit_count, 2);
    assert_eq!(
        d.findings[0].fingerprint,
        format!("{first}:k.txt:test-secret:1")
    );
}

#[test]
fn damaged_repository_lists_missing_object() {
    let r = TestRepo::new();
    r.write("a.txt", format!("{}\n", secret("GONE1")));
    r.write("b.txt", format!("{}\n", secret("KEPT2")));
    r.commit("two files");
    let blob = r.git(&["rev-parse", "HEAD:a.txt"]);
    std::fs::remove_file(r.loose_object(&blob)).unwrap();
    let rep = scan(&r, &GitScanOptions::default());
    assert_eq!(rep.findings.len(), 1, "the intact file is still scanned");
    assert_eq!(rep.errors.len(), 1, "{:?}", rep.errors);
    let e = &rep.errors[0];
    assert!(
        e.message.contains(&blob) && e.message.contains("a.txt"),
        "{e}"
    );
    // The same facts in typed fields.
    assert_eq!(e.kind, portcullis::source::ScanErrorKind::Object, "{e}");
    assert_eq!(e.object.as_deref(), Some(blob.as_str()), "{e}");
    assert_eq!(e.path.as_deref(), Some("a.txt"), "{e}");
    assert_eq!(
        e.commit.as_deref(),
        Some(r.git(&["rev-parse", "HEAD"]).as_str()),
        "{e}"
    );
}

#[test]
fn shallow_clone_boundary_is_a_warning() {
    let r = TestRepo::new();
    r.write("a.txt", format!("{}\n", secret("OLD1")));
    r.commit("old");
    r.write("b.txt", "b\n");
    r.commit("new");
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", r.path().display());
    let dest = clone.path().join("c");
    portcullis_pack::testing::run(
        portcullis_pack::testing::git_command(clone.path())
            .args(["clone", "-q", "--depth", "1", &url])
            .arg(&dest),
    );
    let rep = portcullis::source::git::scan_history_with(
        &dest,
        &git_common::RegexScanner::default(),
        &GitScanOptions::default(),
    )
    .unwrap();
    assert!(
        rep.warnings.iter().any(|w| w.contains("shallow")),
        "{:?}",
        rep.warnings
    );
    assert_eq!(rep.commits_scanned, 1);
    // The boundary commit is scanned as a root: the old secret is visible in its tree.
    assert_eq!(rep.findings.len(), 1);
}

#[test]
fn symlinks_submodules_lfs_pointers_and_oversize_blobs_are_handled_explicitly() {
    let r = TestRepo::new();
    let (link_secret, lfs_secret, big_secret) = (secret("LINK1"), secret("LFS2"), secret("BIG3"));
    std::os::unix::fs::symlink(&link_secret, r.path().join("link")).unwrap();
    r.write(
        "model.bin",
        format!(
            "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\nx-note {lfs_secret}\n"
        ),
    );
    r.write("big.txt", format!("{}{big_secret}\n", filler(80_000)));
    r.write("small.txt", "fine\n");
    r.git(&["add", "-A"]);
    // A submodule entry (gitlink) pointing to a commit that is not in this repository.
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        "160000,1234567890123456789012345678901234567890,vendor/lib",
    ]);
    r.git(&["commit", "-q", "-m", "mixed"]);
    let c = r.head();

    let rep = scan(
        &r,
        &GitScanOptions {
            max_target_megabytes: Some(1),
            ..Default::default()
        },
    );
    assert!(
        rep.errors.is_empty(),
        "gitlinks must not be read as objects: {:?}",
        rep.errors
    );
    // Symlinks are scanned as their target text, as `git log -p` shows them.
    assert_eq!(locations(&rep), vec![loc(&c, "link", 1, &link_secret)]);
    assert_eq!(rep.stats.submodules_skipped, 1);
    assert_eq!(rep.stats.lfs_pointers_skipped, 1);
    assert_eq!(rep.stats.oversize_skipped, 1);
    // The oversize blob makes the scan incomplete, naming the file and the commit.
    assert!(
        rep.incomplete
            .iter()
            .any(|w| w.contains("big.txt") && w.contains(&c)),
        "{:?}",
        rep.incomplete
    );
    assert!(
        rep.warnings.iter().any(|w| w.contains("LFS")),
        "{:?}",
        rep.warnings
    );
    // Without the size limit the big file's secret is found at its exact line.
    let all = scan(&r, &GitScanOptions::default());
    assert!(locations(&all).contains(&loc(&c, "big.txt", 80_001, &big_secret)));
}

#[test]
fn resolve_rev_and_merge_base_name_commits_and_fail_clearly() {
    use portcullis::source::git::{merge_base, resolve_rev};
    let r = TestRepo::new();
    r.write("a.txt", "a\n");
    let base = r.commit("base");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("b.txt", "b\n");
    let feat = r.commit("feature");
    r.git(&["checkout", "-q", "main"]);
    r.write("c.txt", "c\n");
    let main = r.commit("main");
    r.git(&["tag", "-a", "v1", "-m", "annotated", &feat]);
    assert_eq!(resolve_rev(r.path(), "main").unwrap(), main);
    assert_eq!(resolve_rev(r.path(), "HEAD~1").unwrap(), base);
    assert_eq!(
        resolve_rev(r.path(), "v1").unwrap(),
        feat,
        "tags peel to their commit"
    );
    assert_eq!(resolve_rev(r.path(), &feat[..10]).unwrap(), feat);
    assert_eq!(merge_base(r.path(), "main", "feature").unwrap(), base);
    let err = resolve_rev(r.path(), "no-such-ref")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no-such-ref") && err.contains(&r.path().display().to_string()),
        "{err}"
    );
    // Unrelated histories have no merge base.
    r.git(&["checkout", "-q", "--orphan", "other"]);
    r.write("o.txt", "o\n");
    r.commit("orphan");
    let err = merge_base(r.path(), "main", "other")
        .unwrap_err()
        .to_string();
    assert!(err.contains("no merge base"), "{err}");
}
