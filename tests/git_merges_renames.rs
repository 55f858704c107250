//! Merges resolved by path lookup in the other parents' trees, and renames detected lazily
//! (only for additions whose content can produce a finding): findings are exactly those of a
//! merge diffed against every parent and of git's rename detection (50 % similarity).

use crate::git_common;

use git_common::{RegexScanner, TestRepo, filler, locations, scan, secret};
use portcullis::detect::Fragment;
use portcullis::report::finding::Finding;
use portcullis::source::FragmentScanner;
use portcullis::source::git::{GitScanOptions, scan_history_with};

fn loc(commit: &str, file: &str, line: u32, s: &str) -> (String, String, u32, String) {
    (commit.to_string(), file.to_string(), line, s.to_string())
}

fn sorted(mut v: Vec<(String, String, u32, String)>) -> Vec<(String, String, u32, String)> {
    v.sort();
    v
}

#[test]
fn merge_resolution_secret_is_found_when_the_other_parent_differs_in_many_files() {
    let r = TestRepo::new();
    let (theirs, ours, resolved, side, evil, nested) = (
        secret("THEIRS1"),
        secret("OURS2"),
        secret("RESOLVED3"),
        secret("SIDEFILE4"),
        secret("EVIL5"),
        secret("NESTED6"),
    );
    r.write("app.cfg", format!("{}mid\n{}", filler(5), filler(5)));
    for i in 0..40 {
        r.write(&format!("src/m{i:02}/file.txt"), filler(3 + i));
    }
    r.write(
        "swap",
        "a file that becomes a directory on the feature side\n",
    );
    let c_base = r.commit("base");
    let _ = c_base;

    // The feature side (second parent) differs from main in many files, adds a directory
    // where a file was, makes a file executable and plants a secret in a file of its own.
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write(
        "app.cfg",
        format!("{}mid = {theirs}\n{}", filler(5), filler(5)),
    );
    for i in 0..40 {
        r.write(
            &format!("src/m{i:02}/file.txt"),
            format!("{}feature edit {i}\n", filler(3 + i)),
        );
    }
    r.write("feature/only.txt", format!("x\nkey = {side}\n"));
    std::fs::remove_file(r.path().join("swap")).unwrap();
    r.write("swap/inner.txt", "now a directory\n");
    r.git(&["add", "-A"]);
    r.git(&["update-index", "--chmod=+x", "src/m00/file.txt"]);
    let c_theirs = r.commit("feature: many changes");

    r.git(&["checkout", "-q", "main"]);
    r.write(
        "app.cfg",
        format!("{}mid = {ours}\n{}", filler(5), filler(5)),
    );
    let c_ours = r.commit("main change");

    let out = r.git_raw(&["merge", "-q", "feature", "-m", "merge feature"]);
    assert!(!out.status.success(), "expected a conflict");
    // Resolution: a new secret in the conflicted file; an evil change in a file both parents
    // have identically; a new nested file; everything else as merged.
    r.write(
        "app.cfg",
        format!("{}mid = {resolved}\n{}", filler(5), filler(5)),
    );
    r.write(
        "src/m07/file.txt",
        format!("{}feature edit 7\nevil = {evil}\n", filler(10)),
    );
    r.write("deep/er/still/new.txt", format!("{nested}\n"));
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "--no-edit"]);
    let c_merge = r.head();
    assert_eq!(
        r.git(&["rev-list", "--parents", "-n1", "HEAD"])
            .split(' ')
            .count(),
        3,
        "a two-parent merge"
    );

    let rep = scan(&r, &GitScanOptions::default());
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    assert_eq!(
        locations(&rep),
        sorted(vec![
            loc(&c_theirs, "app.cfg", 6, &theirs),
            loc(&c_theirs, "feature/only.txt", 2, &side),
            loc(&c_ours, "app.cfg", 6, &ours),
            loc(&c_merge, "app.cfg", 6, &resolved),
            loc(&c_merge, "src/m07/file.txt", 12, &evil),
            loc(&c_merge, "deep/er/still/new.txt", 1, &nested),
        ])
    );
}

#[test]
fn octopus_merge_keeps_only_lines_new_to_every_parent() {
    let r = TestRepo::new();
    let (a, b, m) = (secret("OCTA1"), secret("OCTB2"), secret("OCTM3"));
    r.write("shared.txt", filler(4));
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "one"]);
    r.write("one.txt", format!("{a}\n"));
    let c_a = r.commit("one");
    r.git(&["checkout", "-q", "-b", "two", "main"]);
    r.write("dir/two.txt", format!("{b}\n"));
    let c_b = r.commit("two");
    r.git(&["checkout", "-q", "main"]);
    r.write("main.txt", "main side\n");
    r.commit("main side");
    r.git(&["merge", "-q", "--no-edit", "one", "two"]);
    // Amend the octopus with an evil line in a file every parent has unchanged.
    r.write("shared.txt", format!("{}octo = {m}\n", filler(4)));
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "--amend", "--no-edit"]);
    let c_m = r.head();
    assert_eq!(
        r.git(&["rev-list", "--parents", "-n1", "HEAD"])
            .split(' ')
            .count(),
        4,
        "an octopus merge"
    );
    let rep = scan(&r, &GitScanOptions::default());
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    assert_eq!(
        locations(&rep),
        sorted(vec![
            loc(&c_a, "one.txt", 1, &a),
            loc(&c_b, "dir/two.txt", 1, &b),
            loc(&c_m, "shared.txt", 5, &m),
        ])
    );
}

#[test]
fn renames_report_only_added_lines_at_the_new_path_and_pure_renames_nothing() {
    let r = TestRepo::new();
    let (old, added, kept, other) = (
        secret("OLD1"),
        secret("ADDED2"),
        secret("KEPT3"),
        secret("OTHER4"),
    );
    let body = format!("{}token = {old}\n{}", filler(10), filler(10));
    r.write("conf/settings.txt", &body);
    r.write("keep/secret.txt", format!("{}k = {kept}\n", filler(6)));
    r.write("unrelated.txt", "bye\n");
    let c1 = r.commit("root");

    // Rename with an edit that adds a secret; the same commit deletes an unrelated file.
    std::fs::remove_file(r.path().join("conf/settings.txt")).unwrap();
    std::fs::remove_file(r.path().join("unrelated.txt")).unwrap();
    let edited = format!("{body}extra = {added}\n");
    r.write("moved/settings.txt", &edited);
    let c2 = r.commit("rename with edit");

    // A pure rename of a file holding a secret: no finding.
    std::fs::remove_file(r.path().join("keep/secret.txt")).unwrap();
    r.write("elsewhere/secret.txt", format!("{}k = {kept}\n", filler(6)));
    let c3 = r.commit("pure rename");
    let _ = c3;

    // The very same new content appears as a brand-new file in a commit without deletions:
    // there every line is added (both secrets reported).
    r.write("copy/settings.txt", &edited);
    let c4 = r.commit("add a copy");

    // A new file in a commit that also deletes an unrelated one: no rename, all lines added.
    std::fs::remove_file(r.path().join("copy/settings.txt")).unwrap();
    r.write("fresh.txt", format!("fresh = {other}\n"));
    let c5 = r.commit("delete and add");

    let rep = scan(&r, &GitScanOptions::default());
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    assert_eq!(
        locations(&rep),
        sorted(vec![
            loc(&c1, "conf/settings.txt", 11, &old),
            loc(&c1, "keep/secret.txt", 7, &kept),
            loc(&c2, "moved/settings.txt", 22, &added),
            loc(&c4, "copy/settings.txt", 11, &old),
            loc(&c4, "copy/settings.txt", 22, &added),
            loc(&c5, "fresh.txt", 1, &other),
        ])
    );
    // git agrees: the second commit is a rename with edits, the third a 100 % rename.
    let status = |c: &str| r.git(&["show", "--format=", "-M", "--name-status", c]);
    assert!(
        status(&c2).lines().any(|l| l.starts_with('R')
            && !l.starts_with("R100")
            && l.ends_with("moved/settings.txt")),
        "rename with edit: {}",
        status(&c2)
    );
    assert!(
        status(&c3)
            .lines()
            .any(|l| l.starts_with("R100") && l.ends_with("elsewhere/secret.txt")),
        "pure rename: {}",
        status(&c3)
    );
}

/// The regex scanner plus a path-only rule: any `*.key` file is reported (empty fragment).
struct WithPathRule(RegexScanner);

impl FragmentScanner for WithPathRule {
    fn might_match(&self, bytes: &[u8]) -> bool {
        self.0.might_match(bytes)
    }
    fn path_allowed_globally(&self, _: &str) -> bool {
        false
    }
    fn scan_fragment(&self, frag: &Fragment<'_>, out: &mut Vec<Finding>) {
        self.0.scan_fragment(frag, out);
        if frag.path.ends_with(".key") {
            let mut f = Finding {
                rule_id: "key-file".into(),
                file: frag.path.to_string(),
                commit: frag.commit.to_string(),
                ..Finding::default()
            };
            f.fingerprint = f.gitleaks_fingerprint();
            out.push(f);
        }
    }
    fn has_path_rules(&self) -> bool {
        true
    }
}

#[test]
fn path_rules_skip_pure_renames_and_see_renames_with_edits() {
    let r = TestRepo::new();
    let content = filler(12);
    r.write("id.key", &content);
    let c1 = r.commit("add key file");
    std::fs::remove_file(r.path().join("id.key")).unwrap();
    r.write("moved.key", &content);
    let c2 = r.commit("pure rename");
    std::fs::remove_file(r.path().join("moved.key")).unwrap();
    r.write("edited.key", format!("{content}one more line\n"));
    let c3 = r.commit("rename with edit");
    let rep = scan_history_with(
        r.path(),
        &WithPathRule(RegexScanner::default()),
        &GitScanOptions::default(),
    )
    .expect("scan");
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    let mut got: Vec<(String, String, String)> = rep
        .findings
        .iter()
        .map(|f| (f.commit.clone(), f.file.clone(), f.rule_id.clone()))
        .collect();
    got.sort();
    let mut want = vec![
        (c1, "id.key".to_string(), "key-file".to_string()),
        (c3, "edited.key".to_string(), "key-file".to_string()),
    ];
    want.sort();
    assert_eq!(got, want, "no finding at the pure rename {c2}");
}
