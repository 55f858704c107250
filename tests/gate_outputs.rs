//! Everything a gate writes (report files, stdout, stderr, lease files) is free of every
//! planted secret: raw, and every 12-character piece of it raw, hex, percent- or
//! base64-encoded. Report paths that are not regular files are refused untouched, and a
//! report left by an earlier run never reads as PASS for another commit.

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;

use crate::merge_gate_support::{Fixture, describe, git, git_env};
use crate::security_common::{Repo, portcullis};
use portcullis::report::{Outcome, read_verdict};

/// A fake AWS access key id (`tail`: 16 characters of A-Z and 2-7), built at run time so no
/// source file holds a key-shaped literal.
fn fake_aws_key(tail: &str) -> String {
    format!("{}{}{tail}", "AK", "IA")
}

/// A fake GitHub personal access token (built at run time), with the CRC32 checksum GitHub
/// tokens carry (a token whose checksum is wrong is low confidence and does not block).
fn fake_github_pat() -> String {
    let random = "Z9yX8wV7uT6sR5qP4oN3mL2kJ1iH0g";
    format!(
        "{}{}{random}{}",
        "gh",
        "p_",
        base62_6(crc32(random.as_bytes()))
    )
}

/// CRC-32 (IEEE), bit by bit.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Six base62 digits (`0-9A-Za-z`), most significant first.
fn base62_6(mut n: u32) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every form of every 12-character piece of `secret` that must not appear in any output.
fn forbidden_forms(secret: &str) -> Vec<String> {
    let b64 = &base64::engine::general_purpose::STANDARD;
    let b64url = &base64::engine::general_purpose::URL_SAFE;
    let mut out = Vec::new();
    let bytes = secret.as_bytes();
    for w in bytes.windows(12) {
        let s = std::str::from_utf8(w).unwrap();
        out.push(s.to_string());
        out.push(hex::encode(w));
        out.push(hex::encode_upper(w));
        let pct: String = w.iter().map(|c| format!("%{c:02X}")).collect();
        out.push(pct.to_lowercase());
        out.push(pct);
        out.push(b64.encode(w));
        out.push(b64url.encode(w));
    }
    out
}

/// Panic naming the output and the form if any planted secret shows in `text`.
fn assert_clean(what: &str, text: &str, secrets: &[&str]) {
    for s in secrets {
        for f in forbidden_forms(s) {
            assert!(
                !text.contains(&f),
                "{what} holds `{f}` (a form of a planted secret):\n{text}"
            );
        }
    }
}

fn all_files_under(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_file() {
            out.push((
                p.display().to_string(),
                String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
            ));
        }
    }
    out
}

fn streams(out: &Output) -> [(String, String); 2] {
    [
        ("stdout".into(), String::from_utf8_lossy(&out.stdout).into()),
        ("stderr".into(), String::from_utf8_lossy(&out.stderr).into()),
    ]
}

#[test]
fn security_gate_writes_no_planted_secret_raw_or_encoded_in_report_or_streams() {
    let pat = fake_github_pat();
    let title_key = fake_aws_key("T7QW3ZX5RV2NP6KM");
    let branch_key = fake_aws_key("B4JD5HX2LQ7WC3MZ");
    let r = Repo::empty();
    r.write("README.md", "# demo\n");
    r.commit("initial commit");
    let branch = format!("fix/{branch_key}");
    r.checkout_new(&branch);
    r.write("config.env", &format!("GITHUB_TOKEN={pat}\n"));
    // The title names a key that no scanned content holds, plus encoded copies of the
    // token that the commit's content holds literally.
    let pat_b64 = base64::engine::general_purpose::STANDARD.encode(format!("t={pat};"));
    r.commit(&format!(
        "add config {title_key} b64 {pat_b64} hex {}",
        hex::encode(&pat)
    ));
    let out = portcullis(
        r.path(),
        &["gate", "security", "--base", "main", "--head", &branch],
        &[],
    );
    let report = r.report();
    let v = read_verdict(&r.path().join("security-report.md"));
    assert_eq!(v.outcome, Outcome::Fail, "{report}");
    assert!(
        report.contains("github"),
        "the finding is reported:\n{report}"
    );
    let secrets = [pat.as_str(), title_key.as_str(), branch_key.as_str()];
    assert_clean("security-report.md", &report, &secrets);
    for (what, text) in streams(&out) {
        assert_clean(&what, &text, &secrets);
    }
}

#[test]
fn merge_gate_writes_no_planted_secret_raw_or_encoded_in_report_streams_or_lease() {
    let fx = Fixture::new();
    let branch_key = fake_aws_key("M2XK7QW3RT4ZP6HN");
    let out_key_tail = "O5PL6MZ3QX7RW2KT";
    let out_key = fake_aws_key(out_key_tail);
    let cmd_pat = fake_github_pat();
    let branch = format!("fix/{branch_key}");
    git(&fx.task_wt, &["checkout", "-q", "-b", &branch]);
    git(&fx.task_wt, &["push", "-q", "origin", &branch]);
    // The test command carries a token; its output prints a key raw, in base64, hex and
    // percent-encoding (the shell joins the key's pieces, none of them 12 characters long,
    // so the command line holds only the token).
    let test = format!(
        "TOKEN={cmd_pat} true; K=\"AK\"\"IA{}\"\"{}\"; echo \"key=$K\"; \
         printf 'id=%s;' \"$K\" | base64 -w0; echo; \
         printf %s \"$K\" | od -An -tx1 | tr -d ' \\n'; echo; \
         printf %s \"$K\" | od -An -tx1 | tr -d ' \\n' | sed 's/../%&/g'; echo; exit 0",
        &out_key_tail[..6],
        &out_key_tail[6..]
    );
    let out = fx.gate_for(&branch, &test).output().unwrap();
    let v = read_verdict(&fx.report);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    let report = std::fs::read_to_string(&fx.report).unwrap();
    let secrets = [branch_key.as_str(), out_key.as_str(), cmd_pat.as_str()];
    assert_clean("merge-report.md", &report, &secrets);
    for (what, text) in streams(&out) {
        assert_clean(&what, &text, &secrets);
    }
    // The lease stays held after a PASS: its record names holder and branch.
    let leases = all_files_under(&fx.leases);
    assert!(
        leases.iter().any(|(_, t)| t.contains("\"holder\"")),
        "no lease record found: {leases:?}"
    );
    for (name, text) in leases {
        assert_clean(&name, &text, &secrets);
    }
    // The holder can still release the lease it holds under its (redacted) stored name.
    let rel = fx.lease_cli(&[
        "release",
        "--holder",
        &format!("merge-gate:{branch}@{}", host()),
    ]);
    assert!(
        rel.status.success(),
        "{}",
        String::from_utf8_lossy(&rel.stderr)
    );
}

fn host() -> String {
    portcullis::lease::hostname()
}

#[cfg(unix)]
fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().unwrap();
    assert!(st.success());
}

#[cfg(unix)]
#[test]
fn security_gate_refuses_a_fifo_or_device_symlink_as_report_file_and_leaves_it() {
    use std::os::unix::fs::FileTypeExt;
    let r = Repo::with_test_config();
    r.checkout_new("task");
    r.write("a.txt", "a\n");
    r.commit("a");
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("report.fifo");
    mkfifo(&fifo);
    let link = tmp.path().join("null-link.md");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    for path in [&fifo, &link] {
        let out = portcullis(
            r.path(),
            &[
                "gate",
                "security",
                "--base",
                "main",
                "--report-file",
                path.to_str().unwrap(),
            ],
            &[],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "FAIL");
        assert!(stderr.contains("not a regular file"), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one-line error: {stderr}");
    }
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    let l = std::fs::symlink_metadata(&link).unwrap();
    assert!(l.file_type().is_symlink());
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("/dev/null"));
}

#[cfg(unix)]
#[test]
fn merge_gate_refuses_a_fifo_as_report_file_with_exit_2_and_leaves_it() {
    use std::os::unix::fs::FileTypeExt;
    let fx = Fixture::new();
    let fifo = fx.tmp.path().join("report.fifo");
    mkfifo(&fifo);
    let mut cmd = Command::new(crate::merge_gate_support::BIN);
    cmd.args(["gate", "merge", "--repo"])
        .arg(&fx.work)
        .args(["--branch", "task", "--test", "true", "--lease-dir"])
        .arg(&fx.leases)
        .arg("--report-file")
        .arg(&fifo);
    git_env(&mut cmd);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[test]
fn stale_pass_of_an_earlier_commit_reads_fail_with_head() {
    let r = Repo::with_test_config();
    r.checkout_new("task");
    r.write("a.txt", "a\n");
    let first = r.commit("a");
    let out = portcullis(r.path(), &["gate", "security", "--base", "main"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", r.report());
    r.write("b.txt", "b\n");
    let second = r.commit("b");
    let report = r.path().join("security-report.md");
    let verdict = |head: &str| {
        portcullis(
            r.path(),
            &["verdict", report.to_str().unwrap(), "--head", head],
            &[],
        )
    };
    assert_eq!(verdict(&first).status.code(), Some(0));
    let stale = verdict(&second);
    assert_eq!(stale.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&stale.stdout).trim(), "FAIL");
}

/// With the report made immutable (when the file system allows it), the gate cannot remove
/// or replace it: the run itself says FAIL and `verdict --head` of the new commit reads FAIL.
#[cfg(target_os = "linux")]
#[test]
fn gate_that_cannot_replace_an_immutable_pass_says_fail_and_head_check_reads_fail() {
    let r = Repo::with_test_config();
    r.checkout_new("task");
    r.write("a.txt", "a\n");
    r.commit("a");
    let out = portcullis(r.path(), &["gate", "security", "--base", "main"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let report = r.path().join("security-report.md");
    let locked = Command::new("chattr")
        .arg("+i")
        .arg(&report)
        .status()
        .is_ok_and(|s| s.success());
    if !locked {
        eprintln!("chattr +i unavailable here: the immutable-report case is not exercised");
        return;
    }
    r.write("b.txt", &format!("{}\n", crate::security_common::SECRET));
    let second = r.commit("b");
    let run = portcullis(r.path(), &["gate", "security", "--base", "main"], &[]);
    let check = portcullis(
        r.path(),
        &["verdict", report.to_str().unwrap(), "--head", &second],
        &[],
    );
    let _ = Command::new("chattr").arg("-i").arg(&report).status();
    assert_ne!(run.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "FAIL");
    assert_eq!(check.status.code(), Some(1));
}

/// The merge gate's previous PASS, made immutable: the new run cannot remove or replace it,
/// so the run itself says FAIL (stdout and exit status).
#[cfg(target_os = "linux")]
#[test]
fn merge_gate_that_cannot_replace_an_immutable_pass_says_fail() {
    let fx = Fixture::new();
    let (out, v) = fx.run_gate("true", &[]);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    let rel = fx.lease_cli(&[
        "release",
        "--holder",
        &format!("merge-gate:task@{}", host()),
    ]);
    assert!(
        rel.status.success(),
        "{}",
        String::from_utf8_lossy(&rel.stderr)
    );
    let locked = Command::new("chattr")
        .arg("+i")
        .arg(&fx.report)
        .status()
        .is_ok_and(|s| s.success());
    if !locked {
        eprintln!("chattr +i unavailable here: the immutable-report case is not exercised");
        return;
    }
    let again = fx.gate("true").output().unwrap();
    let _ = Command::new("chattr").arg("-i").arg(&fx.report).status();
    assert_ne!(again.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        stdout.contains("FAIL") && !stdout.contains("PASS"),
        "{stdout}"
    );
}
