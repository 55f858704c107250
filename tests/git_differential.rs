//! Differential test against git itself: on a randomly edited history (edits, insertions,
//! deletions, renames with edits, deleted and re-added files, CRLF, missing final newlines),
//! the engine's added lines are exactly the `+` lines of
//! `git log -p -U0 --full-history --all --diff-filter=tuxdb` (what gitleaks scans), with the
//! same commit, file and line number, for every non-merge commit.

use crate::git_common;

use std::collections::BTreeSet;

use git_common::TestRepo;
use portcullis::detect::Fragment;
use portcullis::report::finding::Finding;
use portcullis::source::FragmentScanner;
use portcullis::source::git::{GitScanOptions, scan_history_with};

/// Reports every line of every fragment as a "finding" (commit, file, line, text).
struct EveryLine;

impl FragmentScanner for EveryLine {
    fn might_match(&self, _: &[u8]) -> bool {
        true
    }
    fn path_allowed_globally(&self, _: &str) -> bool {
        false
    }
    fn scan_fragment(&self, frag: &Fragment<'_>, out: &mut Vec<Finding>) {
        let text = String::from_utf8_lossy(frag.text);
        for (i, line) in text.split_inclusive('\n').enumerate() {
            out.push(Finding {
                rule_id: "line".into(),
                file: frag.path.into(),
                commit: frag.commit.into(),
                start_line: frag.start_line + i as u32,
                secret: line.strip_suffix('\n').unwrap_or(line).to_string(),
                ..Finding::default()
            });
        }
    }
}

struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

type Row = (String, String, u32, String);

fn git_added_lines(r: &TestRepo) -> BTreeSet<Row> {
    let out = r.git_raw(&[
        "-c",
        "core.quotepath=off",
        "log",
        "-p",
        "-U0",
        "--full-history",
        "--all",
        "--diff-filter=tuxdb",
        "--format=COMMIT %H",
        "--no-color",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut rows = BTreeSet::new();
    let (mut commit, mut file, mut line) = (String::new(), String::new(), 0u32);
    let mut in_hunk = false;
    for l in text.split('\n') {
        if let Some(c) = l.strip_prefix("COMMIT ") {
            commit = c.to_string();
            in_hunk = false;
        } else if l.starts_with("diff --git ") {
            in_hunk = false;
        } else if !in_hunk && l.starts_with("+++ ") {
            file = l.strip_prefix("+++ b/").unwrap_or("").to_string();
        } else if let Some(h) = l.strip_prefix("@@ ") {
            let plus = h.split(' ').nth(1).unwrap();
            line = plus[1..].split(',').next().unwrap().parse().unwrap();
            in_hunk = true;
        } else if in_hunk && let Some(added) = l.strip_prefix('+') {
            rows.insert((commit.clone(), file.clone(), line, added.to_string()));
            line += 1;
        }
    }
    rows
}

#[test]
fn added_lines_match_git_log_patch_output() {
    let r = TestRepo::new();
    let mut rng = Lcg(7);
    let words = [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "{",
        "}",
        "",
        "return x;",
        "let y = 1;",
    ];
    let mut files: Vec<(String, Vec<String>)> = (0..6)
        .map(|i| {
            let n = 5 + rng.below(30);
            (
                format!("dir{}/f{i}.txt", i % 2),
                (0..n)
                    .map(|_| words[rng.below(words.len())].to_string())
                    .collect(),
            )
        })
        .collect();
    let write_all = |files: &Vec<(String, Vec<String>)>, crlf_last: bool| {
        for (k, (p, lines)) in files.iter().enumerate() {
            let sep = if crlf_last && k == files.len() - 1 {
                "\r\n"
            } else {
                "\n"
            };
            let mut body = lines.join(sep);
            if k % 3 != 1 {
                body.push_str(sep); // some files lack a final newline
            }
            r.write(p, body);
        }
    };
    write_all(&files, true);
    r.commit("root");
    for step in 0..60 {
        if step == 30 {
            r.git(&["checkout", "-q", "-b", "side", "HEAD~5"]);
        }
        let k = rng.below(files.len());
        let n_ops = 1 + rng.below(4);
        for _ in 0..n_ops {
            let lines = &mut files[k].1;
            let at = rng.below(lines.len() + 1);
            match rng.below(3) {
                0 if at < lines.len() => {
                    lines[at] = format!("changed {step} {}", words[rng.below(words.len())])
                }
                1 if at < lines.len() && lines.len() > 3 => {
                    lines.remove(at);
                }
                _ => lines.insert(at, format!("inserted {step}")),
            }
        }
        if step % 11 == 5 {
            // Rename with a small edit.
            let old = files[k].0.clone();
            let new = format!("moved/{step}-{}", old.replace('/', "_"));
            std::fs::create_dir_all(r.path().join("moved")).unwrap();
            std::fs::rename(r.path().join(&old), r.path().join(&new)).unwrap();
            files[k].0 = new;
        }
        if step % 17 == 8 {
            let p = files.remove(0).0;
            std::fs::remove_file(r.path().join(&p)).unwrap();
            files.push((
                format!("readded{step}.txt"),
                vec!["fresh".into(), "file".into()],
            ));
        }
        write_all(&files, true);
        r.commit(&format!("step {step}"));
    }

    let merges: BTreeSet<String> = r
        .git(&["rev-list", "--merges", "--all"])
        .lines()
        .map(String::from)
        .collect();
    let ours: BTreeSet<Row> = scan_history_with(r.path(), &EveryLine, &GitScanOptions::default())
        .unwrap()
        .findings
        .into_iter()
        .filter(|f| !merges.contains(&f.commit))
        .map(|f| (f.commit, f.file, f.start_line, f.secret))
        .collect();
    let theirs = git_added_lines(&r);
    assert!(
        theirs.len() > 200,
        "test history too small: {}",
        theirs.len()
    );
    let missing: Vec<_> = theirs.difference(&ours).take(10).collect();
    let extra: Vec<_> = ours.difference(&theirs).take(10).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing (in git, not ours): {missing:#?}\nextra: {extra:#?}"
    );
}
