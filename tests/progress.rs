//! The progress bar of `scan dir`: drawn on a terminal with numbered phases, never drawn when
//! stderr is not a terminal, under `--quiet` or in CI.

use std::path::Path;
use std::process::Command;

/// A directory whose scan takes well over a quarter of a second in a debug build.
fn big_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let line = "let value = compute(alpha, beta, gamma) + offset * 3; // plain code\n";
    let text = line.repeat(100_000 / line.len());
    for i in 0..300 {
        std::fs::write(dir.path().join(format!("f{i}.rs")), &text).expect("write");
    }
    dir
}

/// Runs `portcullis scan dir DIR EXTRA` with a pseudo-terminal as stdout and stderr (through
/// `script`), returning everything drawn on it.
fn on_terminal(dir: &Path, extra: &str, ci: Option<&str>) -> String {
    let cmd = format!(
        "{} scan dir {} --no-ignore {extra}",
        env!("CARGO_BIN_EXE_portcullis"),
        dir.display()
    );
    let mut c = Command::new("script");
    c.args(["-qfec", &cmd, "/dev/null"]).env_remove("CI");
    if let Some(v) = ci {
        c.env("CI", v);
    }
    let out = c.output().expect("run script");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn progress_bar_on_a_terminal_names_and_numbers_its_phases() {
    let dir = big_dir();
    let screen = on_terminal(dir.path(), "", None);
    assert!(
        screen.contains("2/2 files"),
        "no numbered phase drawn: {screen:?}"
    );
    assert!(screen.contains("no leaks found"), "{screen:?}");
    // Rates are whole numbers: "123/s 4 MB/s", never "123.45/s".
    let rates: Vec<&str> = screen
        .split(|c: char| c.is_whitespace() || c == '\r')
        .filter(|w| w.ends_with("/s"))
        .collect();
    assert!(!rates.is_empty(), "no rate drawn: {screen:?}");
    for r in rates {
        assert!(!r.contains('.'), "fractional rate {r:?}");
    }
}

#[test]
fn no_progress_bar_in_ci_or_under_quiet() {
    let dir = big_dir();
    for (extra, ci) in [("", Some("true")), ("--quiet", None)] {
        let screen = on_terminal(dir.path(), extra, ci);
        assert!(
            !screen.contains("files ["),
            "bar drawn with {extra:?} {ci:?}: {screen:?}"
        );
        assert!(
            !screen.contains("/2 "),
            "phase drawn with {extra:?} {ci:?}: {screen:?}"
        );
    }
    // CI=false is not CI.
    let screen = on_terminal(dir.path(), "", Some("false"));
    assert!(screen.contains("2/2 files"), "{screen:?}");
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let dir = big_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["scan", "dir", "--no-ignore"])
        .arg(dir.path())
        .env_remove("CI")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("2/2 files") && !err.contains('\r'), "{err:?}");
    assert!(err.contains("no leaks found"), "{err:?}");
}
