//! The command line where users already work: shell completions, man pages, `--version` with
//! the advisory snapshot dates, gitleaks' hook spellings (`git --pre-commit --staged`,
//! `protect --staged`) and the hook commands (`hook pre-push`, `hook audit`).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::git_common::TestRepo;
use crate::scan_common::{TEST_CONFIG, TOKEN, run_in};

fn portcullis_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("PORTCULLIS_CONFIG")
        .env_remove("GITLEAKS_CONFIG")
        .env_remove("PRE_COMMIT_FROM_REF")
        .env_remove("PRE_COMMIT_TO_REF")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run portcullis");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bash_completion_script_parses_and_registers_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["completions", "bash"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let script = dir.path().join("portcullis.bash");
    std::fs::write(&script, &run.stdout).unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}' && complete -p portcullis",
            script.display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("portcullis"));
    for sub in ["scan", "audit", "gate", "completions", "protect"] {
        assert!(run.stdout.contains(sub), "{sub} completed");
    }
}

#[test]
fn zsh_fish_and_powershell_completions_name_the_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("zsh", "#compdef portcullis"),
        ("fish", "complete -c portcullis"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let run = run_in(dir.path(), &["completions", shell], None);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains(marker), "{shell}");
        assert!(
            run.stdout.contains("staged"),
            "{shell} completes scan git flags"
        );
    }
    let run = run_in(dir.path(), &["completions", "tcsh"], None);
    assert_eq!(run.code, 2, "an unknown shell is a usage error");
}

#[test]
fn man_page_is_roff_and_every_command_gets_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["man"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with(".ie"), "{}", &run.stdout[..80]);
    assert!(run.stdout.contains(".TH portcullis 1"));
    assert!(run.stdout.contains("completions"));
    let out = dir.path().join("man1");
    let run = run_in(dir.path(), &["man", "--dir", out.to_str().unwrap()], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for page in [
        "portcullis.1",
        "portcullis-scan.1",
        "portcullis-scan-git.1",
        "portcullis-gate-security.1",
        "portcullis-hook-pre-push.1",
    ] {
        let text =
            std::fs::read_to_string(out.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page}");
    }
    let git_page = std::fs::read_to_string(out.join("portcullis-scan-git.1")).unwrap();
    assert!(git_page.contains("staged"));
}

#[test]
fn version_names_the_embedded_advisory_snapshot_dates() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["--version"], None);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .starts_with(&format!("portcullis {}\n", env!("CARGO_PKG_VERSION"))),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("embedded advisory snapshot:"));
    // The same sources and dates as `db info` reports.
    let info = run_in(dir.path(), &["db", "info"], None);
    let mut sources = 0;
    for line in info.stdout.lines().filter(|l| l.starts_with("  ")) {
        let name = line.trim().split(':').next().unwrap();
        let date = line.split(" (").nth(1).unwrap().split(')').next().unwrap();
        assert!(
            run.stdout.contains(&format!("  {name} {date}")),
            "{name} {date} missing from:\n{}",
            run.stdout
        );
        sources += 1;
    }
    assert!(sources >= 2, "{}", info.stdout);
    // `-V` stays one line.
    let short = run_in(dir.path(), &["-V"], None);
    assert_eq!(
        short.stdout,
        format!("portcullis {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// A repository with a committed config and a clean first commit.
fn repo_with_config() -> TestRepo {
    let repo = TestRepo::new();
    repo.write(".gitleaks.toml", TEST_CONFIG);
    repo.write("README", "hello\n");
    repo.commit("init");
    repo
}

#[test]
fn gitleaks_pre_commit_spelling_refuses_a_staged_secret() {
    let repo = repo_with_config();
    let gitleaks_hook = [
        "git",
        "--pre-commit",
        "--staged",
        "--redact",
        "-v",
        "--no-banner",
    ];
    let (code, _, err) = portcullis_env(repo.path(), &gitleaks_hook, &[]);
    assert_eq!(code, 0, "nothing staged: {err}");
    repo.write("README", format!("hello\nkey = {TOKEN}\n"));
    // Not staged yet: `--staged` does not see it, `--pre-commit` alone (the work tree) does.
    let (code, _, _) = portcullis_env(repo.path(), &gitleaks_hook, &[]);
    assert_eq!(code, 0);
    let (code, out, _) = portcullis_env(repo.path(), &["git", "--pre-commit", "-v"], &[]);
    assert_eq!(code, 1, "{out}");
    repo.git(&["add", "README"]);
    let (code, out, err) = portcullis_env(repo.path(), &gitleaks_hook, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("test-token"), "{out}");
    assert!(!out.contains(TOKEN), "--redact hides the secret: {out}");
    let (code, _, _) = portcullis_env(repo.path(), &["protect", "--staged", "--redact"], &[]);
    assert_eq!(code, 1);
    let (code, _, _) = portcullis_env(
        Path::new("/"),
        &["protect", "--staged", "-s", repo.path().to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 1, "--source names the repository");
}

#[test]
fn pre_push_hook_scans_only_the_pushed_range() {
    let repo = repo_with_config();
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.write("a.env", format!("key = {TOKEN}\n"));
    let leaky = repo.commit("leak");
    repo.write("a.env", "key = removed\n");
    let fixed = repo.commit("fix");
    let range = |from: &str, to: &str| {
        portcullis_env(
            repo.path(),
            &["hook", "pre-push", "--redact", "-q"],
            &[("PRE_COMMIT_FROM_REF", from), ("PRE_COMMIT_TO_REF", to)],
        )
        .0
    };
    assert_eq!(range(&base, &fixed), 1, "the pushed range holds the leak");
    assert_eq!(
        range(&leaky, &fixed),
        0,
        "already pushed commits are not rescanned"
    );
    // Without pre-commit's variables: HEAD minus what remote-tracking branches hold.
    let (code, _, _) = portcullis_env(repo.path(), &["hook", "pre-push", "-q"], &[]);
    assert_eq!(code, 1, "no remote: every commit of HEAD");
    repo.git(&["update-ref", "refs/remotes/origin/main", &fixed]);
    let (code, _, err) = portcullis_env(repo.path(), &["hook", "pre-push", "-q"], &[]);
    assert_eq!(code, 0, "all of HEAD is on the remote: {err}");
}

#[test]
fn audit_hook_audits_the_lockfiles_it_is_given_and_ignores_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let vulnerable = root.join("testdata/audit/rust/fd-8.3.0/Cargo.lock");
    let clean = root.join("testdata/audit/rust/ripgrep-3fce3b5/Cargo.lock");
    let (code, _, err) = portcullis_env(
        dir.path(),
        &["hook", "audit", "README.md", clean.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = portcullis_env(
        dir.path(),
        &[
            "hook",
            "audit",
            clean.to_str().unwrap(),
            vulnerable.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("RUSTSEC-"), "{err}");
}
