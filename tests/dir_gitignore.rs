//! `scan dir` inside a git work tree leaves out what `.gitignore` ignores, as ripgrep does, and
//! says how much it left out; `--no-ignore` scans everything; outside a git work tree
//! `.gitignore` files mean nothing.

use crate::scan_common;

use scan_common::*;

fn git_init(dir: &std::path::Path) {
    portcullis_pack::testing::git(dir, &["init", "-q", "-b", "main"]);
}

fn ignored_build_output(repo: &std::path::Path) {
    write(repo, ".gitignore", "/target\n*.log\n");
    write(repo, "src/app.env", format!("key={TOKEN}\n"));
    write(repo, "target/debug/build/out.txt", format!("{TOKEN2}\n"));
    write(repo, "target/debug/deps/more.txt", format!("{TOKEN2}\n"));
    write(repo, "trace.log", format!("{TOKEN2}\n"));
}

#[test]
fn scan_dir_in_a_git_work_tree_leaves_out_gitignored_paths_and_counts_them() {
    let (ws, repo) = workspace();
    git_init(&repo);
    ignored_build_output(&repo);
    let (run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        keys(&report),
        vec![("repo/src/app.env".into(), "test-token".into(), 1)]
    );
    // `target` (one directory) and `trace.log`.
    assert!(
        run.stderr
            .contains("2 path(s) left out by .gitignore; --no-ignore scans them"),
        "{}",
        run.stderr
    );
}

#[test]
fn no_ignore_scans_gitignored_paths_too() {
    let (ws, repo) = workspace();
    git_init(&repo);
    ignored_build_output(&repo);
    let (run, report) = scan_repo(ws.path(), &["--no-ignore"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(report.len(), 4, "{report:?}");
    assert!(!run.stderr.contains("left out"), "{}", run.stderr);
}

#[test]
fn gitignore_outside_a_git_work_tree_is_not_applied() {
    let (ws, repo) = workspace();
    ignored_build_output(&repo);
    let (run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(report.len(), 4, "{report:?}");
}
