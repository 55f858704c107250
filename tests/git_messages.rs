//! Revision errors say what is missing: a deleted pack, an empty repository and an unknown name
//! each get their own message (not gix's generic "rev-spec is malformed"), and a shallow clone
//! whose merge base is cut off says that the clone is shallow.

use crate::git_common;

use git_common::TestRepo;
use portcullis::source::git::{merge_base, resolve_rev};

fn err_of<T: std::fmt::Debug>(r: Result<T, portcullis::source::git::GitError>) -> String {
    r.expect_err("an error").to_string()
}

#[test]
fn an_empty_repository_says_it_has_no_commits() {
    let r = TestRepo::new();
    let e = err_of(resolve_rev(r.path(), "HEAD"));
    assert!(e.contains("no commits yet"), "{e}");
    assert!(!e.contains("malformed"), "{e}");
}

#[test]
fn a_deleted_pack_says_the_commit_is_missing_from_the_object_database() {
    let r = TestRepo::new();
    r.write("a.txt", "a\n");
    let head = r.commit("one");
    r.git(&["gc", "-q"]);
    for e in std::fs::read_dir(r.path().join(".git/objects/pack")).expect("pack dir") {
        std::fs::remove_file(e.expect("entry").path()).expect("remove");
    }
    for rev in ["HEAD", "main", "main~0"] {
        let e = err_of(resolve_rev(r.path(), rev));
        assert!(
            e.contains(&head) && e.contains("missing from the object database"),
            "{rev}: {e}"
        );
        assert!(!e.contains("malformed"), "{e}");
    }
}

#[test]
fn an_unknown_name_says_no_such_branch_tag_or_commit() {
    let r = TestRepo::new();
    r.write("a.txt", "a\n");
    r.commit("one");
    let e = err_of(resolve_rev(r.path(), "no-such-branch"));
    assert!(
        e.contains("no branch, tag or commit is named 'no-such-branch'"),
        "{e}"
    );
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let e = err_of(resolve_rev(r.path(), missing));
    assert!(e.contains("not in the object database"), "{e}");
}

#[test]
fn a_shallow_clone_without_merge_base_says_the_clone_is_shallow() {
    let r = TestRepo::new();
    r.write("a.txt", "a\n");
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("b.txt", "b\n");
    r.commit("feature work");
    r.git(&["checkout", "-q", "main"]);
    r.write("c.txt", "c\n");
    r.commit("main work");
    let clone = tempfile::tempdir().expect("tempdir");
    let dest = clone.path().join("c");
    let url = format!("file://{}", r.path().display());
    r.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        "--no-single-branch",
        &url,
        dest.to_str().expect("utf-8 path"),
    ]);
    let e = err_of(merge_base(&dest, "origin/main", "origin/feature"));
    assert!(e.contains("no merge base"), "{e}");
    assert!(e.contains("the clone is shallow"), "{e}");
    // A full repository with unrelated histories says so instead.
    r.git(&["checkout", "-q", "--orphan", "other"]);
    r.write("d.txt", "d\n");
    r.commit("unrelated");
    let e = err_of(merge_base(r.path(), "main", "other"));
    assert!(e.contains("unrelated"), "{e}");
}
