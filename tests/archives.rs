//! Archives: members named `outer!inner`, nesting up to `--max-archive-depth`, gzip single
//! files, corrupt archives as errors, and the decompression-bomb bounds.

use crate::scan_common;

use scan_common::*;

#[test]
fn zip_member_findings_are_named_with_bang() {
    let (ws, repo) = workspace();
    let zip = zip_bytes(&[
        ("config/app.env", format!("a=1\nkey={TOKEN}\n").as_bytes()),
        ("README.md", b"nothing"),
    ]);
    write(&repo, "release/bundle.zip", zip);
    let (run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        keys(&report),
        vec![(
            "repo/release/bundle.zip!config/app.env".into(),
            "test-token".into(),
            2
        )]
    );
    assert_eq!(
        report[0]["Fingerprint"],
        "repo/release/bundle.zip!config/app.env:test-token:2"
    );
}

#[test]
fn zip_inside_tar_gz_is_opened_at_depth_two_only() {
    let (ws, repo) = workspace();
    let inner = zip_bytes(&[("deep/secret.env", format!("{TOKEN}\n").as_bytes())]);
    let tar = tar_bytes(&[
        ("pkg/inner.zip", &inner),
        ("pkg/top.env", format!("{TOKEN2}\n").as_bytes()),
    ]);
    write(&repo, "dist.tar.gz", gz_bytes(&tar));

    let (run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        keys(&report),
        vec![
            (
                "repo/dist.tar.gz!pkg/inner.zip!deep/secret.env".into(),
                "test-token".into(),
                1
            ),
            (
                "repo/dist.tar.gz!pkg/top.env".into(),
                "test-token".into(),
                1
            ),
        ]
    );

    let (run, report) = scan_repo(ws.path(), &["--max-archive-depth", "1"]);
    assert_eq!(
        keys(&report),
        vec![(
            "repo/dist.tar.gz!pkg/top.env".into(),
            "test-token".into(),
            1
        )]
    );
    assert!(run.stderr.contains("max-archive-depth"), "{}", run.stderr);

    // Depth 0: no archive is opened (and compressed content shows no token).
    let (run, report) = scan_repo(ws.path(), &["--max-archive-depth", "0"]);
    assert!(report.is_empty(), "{report:#?}");
    assert_eq!(run.code, 0);
}

#[test]
fn plain_tar_members_and_gzip_single_files() {
    let (ws, repo) = workspace();
    write(
        &repo,
        "backup.tar",
        tar_bytes(&[("etc/app.conf", format!("x\n{TOKEN}\n").as_bytes())]),
    );
    write(
        &repo,
        "dump.sql.gz",
        gz_bytes(format!("-- dump\n\n{TOKEN2}\n").as_bytes()),
    );
    let (run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        keys(&report),
        vec![
            (
                "repo/backup.tar!etc/app.conf".into(),
                "test-token".into(),
                2
            ),
            // A compressed single file keeps its own name, as in gitleaks.
            ("repo/dump.sql.gz".into(), "test-token".into(), 3),
        ]
    );
}

#[test]
fn global_allowlist_applies_to_member_paths() {
    let (ws, repo) = workspace();
    let zip = zip_bytes(&[
        ("generated/x.env", format!("{TOKEN}\n").as_bytes()),
        ("src/y.env", format!("{TOKEN2}\n").as_bytes()),
    ]);
    write(&repo, "a.zip", zip);
    let (_run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(
        keys(&report),
        vec![("repo/a.zip!src/y.env".into(), "test-token".into(), 1)]
    );
}

#[test]
fn corrupt_archives_are_errors_naming_the_file() {
    let (ws, repo) = workspace();
    write(&repo, "broken.zip", b"this is not a zip file at all");
    let mut gz = gz_bytes(format!("{TOKEN}\n and a good amount of extra text").as_bytes());
    gz.truncate(gz.len() - 10);
    write(&repo, "cut.gz", gz);
    write(&repo, "ok.env", format!("{TOKEN2}\n"));
    let (run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("repo/broken.zip"), "{}", run.stderr);
    assert!(run.stderr.contains("repo/cut.gz"), "{}", run.stderr);
    // Findings elsewhere are still reported.
    assert!(keys(&report).contains(&("repo/ok.env".into(), "test-token".into(), 1)));
}

#[test]
fn decompression_bomb_is_stopped_by_ratio_bound() {
    let (ws, repo) = workspace();
    // ~100 MB of zeros compress to ~100 kB: far beyond the 200x expansion bound.
    let bomb = gz_bytes(&vec![0u8; 100_000_000]);
    assert!(bomb.len() < 1_000_000);
    write(&repo, "bomb.gz", bomb);
    let (run, _report) = scan_repo(ws.path(), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("repo/bomb.gz"), "{}", run.stderr);
    assert!(run.stderr.contains("decompression bomb"), "{}", run.stderr);
}

#[test]
fn total_decompressed_bytes_are_capped() {
    let (ws, repo) = workspace();
    let mut text = String::new();
    let mut i = 0u64;
    while text.len() < 3_000_000 {
        text.push_str(&format!("line {i} {}\n", i.wrapping_mul(2_654_435_761)));
        i += 1;
    }
    let tar = tar_bytes(&[
        ("a.txt", text.as_bytes()),
        ("b.txt", format!("{TOKEN}\n").as_bytes()),
    ]);
    write(&repo, "logs.tar.gz", gz_bytes(&tar));
    let (run, _) = scan_repo(ws.path(), &["--max-archive-megabytes", "1"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("repo/logs.tar.gz"), "{}", run.stderr);
    assert!(
        run.stderr.contains("max-archive-megabytes"),
        "{}",
        run.stderr
    );
    // With the default cap the same archive is scanned completely.
    let (run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        keys(&report),
        vec![("repo/logs.tar.gz!b.txt".into(), "test-token".into(), 1)]
    );
}

#[test]
fn oversized_members_are_skipped_like_large_files_and_fail_the_scan() {
    let (ws, repo) = workspace();
    let mut big = vec![b'z'; 1_500_000];
    big.extend_from_slice(format!("\n{TOKEN}\n").as_bytes());
    let zip = zip_bytes(&[
        ("big.txt", &big),
        ("small.txt", format!("{TOKEN2}\n").as_bytes()),
    ]);
    write(&repo, "m.zip", zip);
    let (run, report) = scan_repo(ws.path(), &["--max-target-megabytes", "1"]);
    // Content not scanned makes the scan incomplete: exit 2, findings still reported.
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        keys(&report),
        vec![("repo/m.zip!small.txt".into(), "test-token".into(), 1)]
    );
    assert!(run.stderr.contains("repo/m.zip!big.txt"), "{}", run.stderr);
}

#[test]
fn plain_tar_bytes_do_not_count_as_decompressed() {
    // A tar is not compressed: a 3 MB tar with a 1 MB decompression cap is scanned fully.
    let (ws, repo) = workspace();
    let filler = vec![b'x'; 3_000_000];
    let tar = tar_bytes(&[
        ("big.bin", &filler),
        ("z.env", format!("{TOKEN}\n").as_bytes()),
    ]);
    write(&repo, "plain.tar", tar);
    let (run, report) = scan_repo(ws.path(), &["--max-archive-megabytes", "1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        keys(&report),
        vec![("repo/plain.tar!z.env".into(), "test-token".into(), 1)]
    );
}

#[test]
fn mutated_archives_never_crash_the_scan() {
    let (ws, repo) = workspace();
    let zip = zip_bytes(&[
        ("a/b.env", format!("{TOKEN}\n").as_bytes()),
        ("c.txt", b"hello"),
    ]);
    let tar = tar_bytes(&[("x/y.env", format!("{TOKEN2}\n").as_bytes())]);
    let tgz = gz_bytes(&tar);
    let mut rng = fastrand::Rng::with_seed(7);
    for i in 0..60 {
        let (name, base) = match i % 3 {
            0 => (format!("m{i}.zip"), &zip),
            1 => (format!("m{i}.tar"), &tar),
            _ => (format!("m{i}.tgz"), &tgz),
        };
        let mut data = base.clone();
        for _ in 0..rng.usize(1..8) {
            let at = rng.usize(..data.len());
            data[at] = rng.u8(..);
        }
        if rng.bool() {
            let keep = rng.usize(1..=data.len());
            data.truncate(keep);
        }
        write(&repo, &name, data);
    }
    let (run, _report) = scan_repo(ws.path(), &[]);
    assert!(
        matches!(run.code, 0..=2),
        "exit {}: {}",
        run.code,
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    for line in run
        .stderr
        .lines()
        .filter(|l| l.starts_with("portcullis: error:"))
    {
        assert!(line.contains("repo/m"), "error names the archive: {line}");
    }
}
