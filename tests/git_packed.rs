//! The delta-order pass over pack files (each pack entry inflated once) must settle blobs
//! exactly as reading them one by one does: the same repository scanned with all objects
//! loose and with its objects in deep-delta packs (plus some loose ones) gives the same
//! findings and the same counters. A damaged pack entry is still reported by id and path.

use crate::git_common;

use git_common::{TestRepo, filler, locations, scan, secret};
use portcullis::source::git::{GitScanOptions, GitTuning, PackPasses};

/// Options that force the whole-pack passes on: by default they run only on large scans, and
/// these repositories are small.
fn with_pack_passes(opts: GitScanOptions) -> GitScanOptions {
    GitScanOptions {
        tuning: GitTuning {
            pack_passes: PackPasses::Always,
            ..opts.tuning.clone()
        },
        ..opts
    }
}

/// A history whose files change a little in every commit, so that packing stores most
/// versions as deltas of deltas.
fn build_history(r: &TestRepo) {
    let mut big: Vec<String> = filler(400).lines().map(str::to_string).collect();
    let mut conf = filler(30);
    let mut bin = vec![0u8, 1, 2, 3];
    for i in 0..36 {
        big[(i * 11) % 400] = format!("line {i} edited in commit {i}");
        if i == 9 {
            big[150] = format!("token = {}", secret("DEEPDELTA1"));
        }
        if i == 21 {
            big[151] = format!("again = {}", secret("DEEPDELTA2"));
        }
        r.write("src/big.txt", big.join("\n") + "\n");
        conf.push_str(&format!("setting{i} = {i}\n"));
        if i == 30 {
            conf.push_str(&format!("key = {}\n", secret("CONFLATE3")));
        }
        r.write("conf.ini", &conf);
        bin.extend_from_slice(format!("chunk {i} {}\n", secret("INBINARY4")).as_bytes());
        r.write("data.bin", &bin);
        if i == 5 {
            r.write(
                "model.lfs",
                "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 123\n",
            );
        }
        if i == 12 {
            // Over the 1 MB limit used below.
            let mut huge = filler(60_000);
            huge.push_str(&secret("OVERSIZE5"));
            huge.push('\n');
            r.write("huge.txt", huge);
        }
        if i == 33 {
            r.write("late.txt", format!("{}\n", secret("LOOSE6")));
        }
        r.commit(&format!("commit {i}"));
    }
}

/// A copy of `src`'s repository whose objects are in two packs with deep delta chains, except
/// those of the last commit, which stay loose.
fn packed_copy(src: &TestRepo) -> TestRepo {
    let dst = TestRepo::new();
    let out = std::process::Command::new("cp")
        .arg("-a")
        .arg(src.path().join(".git/."))
        .arg(dst.path().join(".git"))
        .output()
        .expect("cp");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pack = |revs: &str| {
        let list = dst.git(&["rev-list", "--objects", revs]);
        let mut child = portcullis_pack::testing::git_command(dst.path())
            .args([
                "pack-objects",
                "-q",
                "--depth=50",
                "--window=50",
                ".git/objects/pack/pack",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("pack-objects");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{list}\n").as_bytes())
            .expect("write");
        assert!(child.wait().expect("wait").success());
    };
    pack("HEAD~18");
    pack("HEAD~18..HEAD~1");
    dst.git(&["prune-packed"]);
    dst
}

fn chained_entries(r: &TestRepo) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(r.path().join(".git/objects/pack")).expect("pack dir") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "idx") {
            let v = r.git(&["verify-pack", "-v", p.to_str().expect("utf-8 path")]);
            n += v
                .lines()
                .filter(|l| l.split_whitespace().count() >= 7)
                .count();
        }
    }
    n
}

#[test]
fn packed_and_loose_repositories_scan_identically() {
    let loose = TestRepo::new();
    build_history(&loose);
    let packed = packed_copy(&loose);
    let packs = std::fs::read_dir(packed.path().join(".git/objects/pack"))
        .expect("pack dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "pack"))
        })
        .count();
    assert_eq!(packs, 2);
    assert!(chained_entries(&packed) > 30, "packing made deltas");

    let opts = with_pack_passes(GitScanOptions {
        max_target_megabytes: Some(1),
        ..GitScanOptions::default()
    });
    let a = scan(&loose, &opts);
    let b = scan(&packed, &opts);
    assert!(
        a.errors.is_empty() && b.errors.is_empty(),
        "{:?} {:?}",
        a.errors,
        b.errors
    );
    assert_eq!(locations(&a), locations(&b));
    let found: Vec<String> = locations(&b).into_iter().map(|l| l.3).collect();
    // A NUL byte does not hide a secret: data.bin is scanned as `scan dir` scans it.
    for s in [
        "DEEPDELTA1",
        "DEEPDELTA2",
        "CONFLATE3",
        "LOOSE6",
        "INBINARY4",
    ] {
        assert!(found.contains(&secret(s)), "{s} in {found:?}");
    }
    assert!(
        !found.contains(&secret("OVERSIZE5")),
        "OVERSIZE5 in {found:?}"
    );
    assert_eq!(a.incomplete.len(), 1, "{:?}", a.incomplete);
    assert_eq!(b.incomplete, a.incomplete);
    // The same counters, except where the blobs were settled.
    let mut sa = a.stats.clone();
    let sb = b.stats.clone();
    assert_eq!(
        sa.blobs_in_delta_order, 0,
        "no packs, nothing in delta order"
    );
    assert!(sb.blobs_in_delta_order > 60, "{sb:?}");
    assert!(
        sb.blobs_in_delta_order < sb.distinct_changes,
        "the last commit's blobs are loose: {sb:?}"
    );
    sa.blobs_in_delta_order = sb.blobs_in_delta_order;
    assert_eq!(sa, sb);
    assert_eq!(sb.oversize_skipped, 1);
    assert_eq!(sb.lfs_pointers_skipped, 1);
    // Every version of data.bin adds one line with the secret.
    let in_binary = found.iter().filter(|s| **s == secret("INBINARY4")).count();
    assert_eq!(in_binary, 36);
}

#[test]
fn damaged_pack_entry_is_reported_by_id_and_path() {
    let r = TestRepo::new();
    r.write("a.txt", format!("{}\n{}", secret("BROKEN1"), filler(200)));
    r.write("b.txt", format!("{}\n", secret("INTACT2")));
    r.commit("two files");
    r.git(&["repack", "-adq"]);
    let blob = r.git(&["rev-parse", "HEAD:a.txt"]);
    let dir = r.path().join(".git/objects/pack");
    let idx = std::fs::read_dir(&dir)
        .expect("pack dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .expect("an index");
    let listing = r.git(&["verify-pack", "-v", idx.to_str().expect("utf-8 path")]);
    let offset: usize = listing
        .lines()
        .find(|l| l.starts_with(&blob))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|o| o.parse().ok())
        .expect("offset of a.txt's blob");
    // Overwrite the middle of the entry's zlib stream.
    let pack = idx.with_extension("pack");
    let mut bytes = std::fs::read(&pack).expect("read pack");
    for b in &mut bytes[offset + 8..offset + 40] {
        *b = 0xff;
    }
    let mut perm = std::fs::metadata(&pack).expect("meta").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(&pack, perm).expect("chmod");
    std::fs::write(&pack, bytes).expect("write pack");

    let rep = scan(&r, &with_pack_passes(GitScanOptions::default()));
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
    let found: Vec<String> = locations(&rep).into_iter().map(|l| l.3).collect();
    assert_eq!(found, vec![secret("INTACT2")]);
}
