//! The README's examples run as written: every fenced block whose info string is
//! `sh runnable` (exit status 0 expected, run under `set -e`) or `sh runnable exit=N` (the
//! block's last command must end with status N) runs with bash in a copy of the repository's
//! tracked files, committed to a fresh git repository, with this build's `portcullis` first on
//! PATH. Blocks without the `runnable` mark need the network, a remote or a long build.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One runnable block of the README.
#[derive(Debug)]
struct Example {
    /// 1-based line of the opening fence.
    line: usize,
    /// Expected exit status.
    exit: i32,
    /// The shell text.
    script: String,
}

fn runnable_examples(readme: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut current: Option<Example> = None;
    let mut in_other_block = false;
    for (i, line) in readme.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        if in_other_block {
            in_other_block = fence.is_none();
            continue;
        }
        if let Some(ex) = current.as_mut() {
            if fence.is_some() {
                out.extend(current.take());
            } else {
                ex.script.push_str(line);
                ex.script.push('\n');
            }
            continue;
        }
        let Some(info) = fence else {
            continue;
        };
        let words: Vec<&str> = info.split_whitespace().collect();
        if words.first() == Some(&"sh") && words.contains(&"runnable") {
            let exit = words
                .iter()
                .find_map(|w| w.strip_prefix("exit="))
                .map(|n| n.parse().expect("exit=N"))
                .unwrap_or(0);
            current = Some(Example {
                line: i + 1,
                exit,
                script: String::new(),
            });
        } else {
            in_other_block = true;
        }
    }
    out
}

fn git(dir: &Path, args: &[&str]) {
    portcullis_pack::testing::git(dir, args);
}

/// A copy of the repository's tracked files (as in the work tree), committed on `main`.
fn repository_copy(dest: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("git")
        .current_dir(root)
        .args(["ls-files", "-z", "--cached"])
        .output()
        .expect("git ls-files");
    assert!(out.status.success());
    let copy = dest.join("portcullis");
    for rel in out.stdout.split(|&b| b == 0).filter(|p| !p.is_empty()) {
        let rel = Path::new(std::str::from_utf8(rel).expect("UTF-8 path"));
        let src = root.join(rel);
        // A tracked file deleted in the work tree is not part of the copy.
        let Ok(meta) = std::fs::symlink_metadata(&src) else {
            continue;
        };
        let dst = copy.join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
    git(&copy, &["init", "-q", "-b", "main"]);
    git(&copy, &["add", "-A"]);
    git(
        &copy,
        &[
            "-c",
            "user.name=README",
            "-c",
            "user.email=readme@example.com",
            "commit",
            "-q",
            "-m",
            "copy",
        ],
    );
    copy
}

#[test]
fn readme_runnable_blocks_are_found() {
    let readme = "text\n```sh runnable\necho a\n```\n```sh\nnot run\n```\n```sh runnable exit=1\nfalse\n```\n";
    let ex = runnable_examples(readme);
    assert_eq!(ex.len(), 2);
    assert_eq!(
        (ex[0].line, ex[0].exit, ex[0].script.as_str()),
        (2, 0, "echo a\n")
    );
    assert_eq!(
        (ex[1].line, ex[1].exit, ex[1].script.as_str()),
        (8, 1, "false\n")
    );
}

#[test]
fn readme_examples_run_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let examples = runnable_examples(&readme);
    assert!(
        examples.len() >= 4,
        "the README keeps runnable examples: {examples:?}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let copy = repository_copy(tmp.path());
    let bin_dir = tmp.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_portcullis"), bin_dir.join("portcullis"))
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for ex in &examples {
        let prelude = if ex.exit == 0 {
            "set -eu -o pipefail\n"
        } else {
            ""
        };
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!("{prelude}{}", ex.script))
            .current_dir(&copy)
            .env("PATH", &path)
            .env("HOME", tmp.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "README")
            .env("GIT_AUTHOR_EMAIL", "readme@example.com")
            .env("GIT_COMMITTER_NAME", "README")
            .env("GIT_COMMITTER_EMAIL", "readme@example.com")
            .env("NO_COLOR", "1")
            .env_remove("PORTCULLIS_CONFIG")
            .env_remove("GITLEAKS_CONFIG")
            .env_remove("PORTCULLIS_CACHE_DIR")
            .env("XDG_CACHE_HOME", tmp.path().join("cache"))
            .output()
            .expect("run bash");
        assert_eq!(
            out.status.code(),
            Some(ex.exit),
            "README.md:{}: exit status\n--- script\n{}--- stdout\n{}--- stderr\n{}",
            ex.line,
            ex.script,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
