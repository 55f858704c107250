//! Helpers for the `scan dir|stdin` CLI tests: real files in temp dirs, the real binary.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A token matched by [`TEST_CONFIG`]'s `test-token` rule.
pub const TOKEN: &str = "tok_q8w7e6r5t4y3u2i1o0pa";
/// A second, different token.
pub const TOKEN2: &str = "tok_zz11yy22xx33ww44vv55";

/// A small config with known rules, independent of the default ruleset.
pub const TEST_CONFIG: &str = r#"
title = "scanio test rules"

[[rules]]
id = "test-token"
description = "Test token"
regex = '''tok_[a-z0-9]{20}'''
keywords = ["tok_"]
tags = ["test", "token"]

[[rules]]
id = "angle-secret"
description = "Angle <secret> & friends"
regex = '''pw<[a-z0-9]{12}>&'''
keywords = ["pw<"]

[[rules]]
id = "pkcs12-file"
description = "PKCS#12 file"
path = '''\.p12$'''

[allowlist]
description = "vendored code"
paths = ['''(?:^|/)vendor$''', '''(?:^|/)\.git$''', '''(?:^|/)generated/''']
"#;

/// Result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    /// Exit status.
    pub code: i32,
    /// Captured stdout.
    pub stdout: String,
    /// Captured stderr.
    pub stderr: String,
}

/// Run `portcullis ARGS` in `cwd` with a clean environment, optional stdin.
pub fn run_in(cwd: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("PORTCULLIS_CONFIG")
        .env_remove("GITLEAKS_CONFIG")
        .env_remove("GITLEAKS_CONFIG_TOML")
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn portcullis");
    if let Some(data) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        pipe.write_all(data).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait portcullis");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Write `data` to `root/rel`, creating parent directories.
pub fn write(root: &Path, rel: &str, data: impl AsRef<[u8]>) -> PathBuf {
    let p = root.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, data).expect("write file");
    p
}

/// A temp dir holding `config.toml` (= [`TEST_CONFIG`]) and an empty `repo/`.
pub fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "config.toml", TEST_CONFIG);
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir repo");
    (dir, repo)
}

/// Run `scan dir repo --config config.toml -r - ARGS` in the workspace; returns the run and
/// the parsed JSON report.
pub fn scan_repo(ws: &Path, extra: &[&str]) -> (Run, Vec<serde_json::Value>) {
    scan_json(ws, "dir", extra)
}

/// Run `scan SOURCE repo --config config.toml -r - ARGS` in the workspace (`SOURCE` is `dir`
/// or `git`); returns the run and the parsed JSON report.
pub fn scan_json(ws: &Path, source: &str, extra: &[&str]) -> (Run, Vec<serde_json::Value>) {
    let mut args = vec!["scan", source, "repo", "--config", "config.toml", "-r", "-"];
    args.extend_from_slice(extra);
    let run = run_in(ws, &args, None);
    let report: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not a JSON array ({e}):\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        )
    });
    (run, report)
}

/// `(File, RuleID, StartLine)` of each finding, sorted.
pub fn keys(report: &[serde_json::Value]) -> Vec<(String, String, u64)> {
    let mut v: Vec<_> = report
        .iter()
        .map(|f| {
            (
                f["File"].as_str().unwrap_or_default().to_string(),
                f["RuleID"].as_str().unwrap_or_default().to_string(),
                f["StartLine"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A zip archive with the given `(name, content)` members (deflated).
pub fn zip_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(*name, opts).expect("zip entry");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

/// A tar archive with the given members.
pub fn tar_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).expect("tar entry");
    }
    b.into_inner().expect("tar finish")
}

/// gzip-compress `data`.
pub fn gz_bytes(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gz write");
    e.finish().expect("gz finish")
}
