//! The security gate end to end on real repositories: secrets blamed only on the branch that
//! adds them, scanner errors and bad configuration fail closed, settings skip the gate, the
//! CLI takes its exit status from the report it wrote.

use crate::security_common;

use portcullis::gate::security::{SecurityRequest, security};
use portcullis::report::{Outcome, read_verdict};
use security_common::*;

fn gate(repo: &Repo) -> portcullis::report::Verdict {
    let mut req = SecurityRequest::new(repo.path());
    req.base = "main".into();
    security(&req)
}

#[test]
fn secret_added_on_the_branch_fails_naming_it_and_the_report_never_holds_the_raw_secret() {
    let r = Repo::with_test_config();
    r.checkout_new("task");
    r.write("src/lib.rs", "pub fn f() {}\n");
    r.commit("add lib");
    r.write("config/app.env", &format!("MODE=dev\nAPI_TOKEN={SECRET}\n"));
    // The commit message quotes the secret too; the report must not.
    let leaking = r.commit(&format!("add config with {SECRET}"));
    r.write("config/app.env", "MODE=dev\n");
    r.commit("remove the token again (still in history)");

    let v = gate(&r);
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
    let expect = format!(
        "secret: test-token in config/app.env:2 (commit {})",
        &leaking[..12]
    );
    assert!(v.reasons.contains(&expect), "{:?}", v.reasons);
    let text = r.report();
    assert!(!text.contains(SECRET), "raw secret in report:\n{text}");
    // Not even a long fragment of it.
    assert!(!text.contains(&SECRET[4..24]));
    assert!(text.contains("`config/app.env:2`"));
    assert!(text.contains(&leaking[..12]));
    assert!(text.contains("[REDACTED, 36 chars]"));
    assert!(text.contains("Rotate every secret"));
    // The file is the source of truth: reading it again gives the same verdict.
    let again = read_verdict(&r.path().join("security-report.md"));
    assert_eq!(again.outcome, Outcome::Fail);
    assert_eq!(again.reasons, v.reasons);
}

#[test]
fn secret_on_main_before_the_fork_is_not_blamed_on_the_branch() {
    let r = Repo::with_test_config();
    r.write("legacy.env", &format!("OLD_TOKEN={SECRET}\n"));
    r.commit("legacy secret on main");
    r.checkout_new("task");
    r.write("notes.md", "harmless\n");
    r.commit("notes");
    let v = gate(&r);
    assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    let fm = v.frontmatter.unwrap();
    let secrets = fm.get("secrets").unwrap();
    assert_eq!(secrets.get("findings").unwrap().as_u64(), Some(0));
    assert_eq!(secrets.get("commits_scanned").unwrap().as_u64(), Some(1));
}

#[test]
fn secret_main_gains_after_the_fork_is_not_blamed_on_an_unrebased_branch() {
    let r = Repo::with_test_config();
    let fork = r.git(&["rev-parse", "HEAD"]);
    r.checkout_new("task");
    r.write("feature.rs", "fn feature() {}\n");
    r.commit("feature");
    r.checkout("main");
    r.write("ops.env", &format!("DEPLOY_TOKEN={SECRET}\n"));
    r.commit("secret lands on main after the fork");
    r.checkout("task");
    let v = gate(&r);
    assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    let fm = v.frontmatter.unwrap();
    assert_eq!(fm.get("merge_base").unwrap().as_str(), Some(fork.as_str()));
}

#[test]
fn a_branch_cannot_allowlist_its_own_secret() {
    let r = Repo::with_test_config();
    r.checkout_new("task");
    r.write(
        ".gitleaks.toml",
        &format!("{TEST_CONFIG}\n[[allowlists]]\npaths = ['''.*''']\n"),
    );
    r.write(".gitleaksignore", "config/app.env:test-token:1\n");
    r.write("config/app.env", &format!("API_TOKEN={SECRET}\n"));
    r.commit("allowlist everything and add a token");
    let v = gate(&r);
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
    assert!(v.reasons.iter().any(|x| x.contains("test-token")));
}

#[test]
fn gitleaksignore_on_main_suppresses_a_known_false_positive() {
    let r = Repo::with_test_config();
    r.write(".gitleaksignore", "docs/example.md:test-token:1\n");
    r.commit("ignore the documented example");
    r.checkout_new("task");
    r.write("docs/example.md", &format!("{SECRET2}\n"));
    r.commit("document the token format");
    let v = gate(&r);
    assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
}

#[test]
fn missing_ignore_file_given_to_the_gate_fails_closed_naming_it() {
    let r = Repo::with_test_config();
    r.checkout_new("task");
    r.write("notes.md", "harmless\n");
    r.commit("notes");
    let missing = r.path().join("no-such-dir/.gitleaksignore");
    let mut req = SecurityRequest::new(r.path());
    req.base = "main".into();
    req.ignore_files = vec![missing.clone()];
    let v = security(&req);
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
    let shown = missing.display().to_string();
    assert!(
        v.reasons.iter().any(|x| x.contains(&shown)),
        "the reason names the file: {:?}",
        v.reasons
    );
}

#[test]
fn default_rules_apply_when_main_has_no_config() {
    let r = Repo::empty();
    r.write("README.md", "demo\n");
    r.commit("init");
    r.checkout_new("task");
    // A GitHub personal access token shape (fake, with a valid CRC32 checksum: a token whose
    // checksum is wrong is reported with low confidence and does not block).
    r.write(
        "deploy.sh",
        "export GITHUB_TOKEN=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\n",
    );
    r.commit("deploy script");
    let v = gate(&r);
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
    assert!(v.reasons.iter().any(|x| x.contains("deploy.sh:1")), "{v:?}");
    let fm = v.frontmatter.unwrap();
    assert_eq!(fm.get("config").unwrap().as_str(), Some("embedded default"));
    assert!(
        !r.report()
            .contains("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")
    );
}

#[test]
fn missing_object_in_the_range_is_a_fail() {
    let r = Repo::with_test_config();
    r.checkout_new("task");
    r.write("data/blob.txt", "some content that will go missing\n");
    r.commit("add blob");
    let blob = r.git(&["rev-parse", "HEAD:data/blob.txt"]);
    let obj = r
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::remove_file(&obj).expect("loose object");
    let v = gate(&r);
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
    let all = v.reasons.join(" | ");
    assert!(
        all.contains(&blob[..12]) || all.contains("data/blob.txt"),
        "{all}"
    );
    let fm = v.frontmatter.unwrap();
    let status = fm.get("secrets").unwrap().get("status").unwrap().as_str();
    assert_eq!(status, Some("error"));
}

#[test]
fn invalid_configuration_is_a_fail_naming_it() {
    let r = Repo::with_test_config();
    r.checkout_new("task");
    r.write("a.txt", "a\n");
    r.commit("a");
    let cfg = r.dir.path().join("..").join(format!(
        "bad-{}.toml",
        r.path().file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(
        &cfg,
        "[[rules]]\nid = \"broken\"\nregex = '''(unclosed'''\n",
    )
    .unwrap();
    let mut req = SecurityRequest::new(r.path());
    req.base = "main".into();
    req.config = Some(cfg.clone());
    let v = security(&req);
    let _ = std::fs::remove_file(&cfg);
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
    let all = v.reasons.join(" | ");
    assert!(all.contains("bad-") && all.contains("broken"), "{all}");
}

#[test]
fn invalid_configuration_on_main_is_a_fail() {
    let r = Repo::empty();
    r.write(".gitleaks.toml", "[[rules]]\nid = 3\n");
    r.commit("broken config");
    r.checkout_new("task");
    r.write("a.txt", "a\n");
    r.commit("a");
    let v = gate(&r);
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
    assert!(v.reasons.join(" ").contains(".gitleaks.toml"), "{v:?}");
}

#[test]
fn rule_that_parses_but_cannot_compile_fails_the_gate_naming_the_rule() {
    let r = Repo::empty();
    r.write(
        ".gitleaks.toml",
        "[[rules]]\nid = \"huge-rule\"\nregex = '''tok_(?:[a-z0-9]{1000}){1000}'''\nkeywords = [\"tok_\"]\n",
    );
    r.commit("config with a rule too large to compile");
    r.checkout_new("task");
    r.write("a.txt", &format!("{SECRET}\n"));
    r.commit("a");
    let v = gate(&r);
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
    assert!(v.reasons.join(" ").contains("huge-rule"), "{v:?}");
}

#[test]
fn unknown_base_is_a_fail() {
    let r = Repo::with_test_config();
    let mut req = SecurityRequest::new(r.path());
    req.base = "origin/main".into(); // there is no remote
    let v = security(&req);
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(v.reasons[0].contains("origin/main"), "{v:?}");
}

#[test]
fn gate_disabled_on_main_writes_a_skipped_pass() {
    let r = Repo::with_test_config();
    r.write("portcullis.toml", "enabled = false\n");
    r.commit("turn the gate off on main");
    r.checkout_new("task");
    r.write("config/app.env", &format!("API_TOKEN={SECRET}\n"));
    r.commit("secret, but the gate is off");
    let v = gate(&r);
    assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    let fm = v.frontmatter.unwrap();
    assert_eq!(fm.get("skipped").unwrap().as_bool(), Some(true));
    assert!(v.reasons[0].contains("disabled"));
}

#[test]
fn a_branch_cannot_turn_its_own_gate_off() {
    let r = Repo::with_test_config();
    r.checkout_new("task");
    r.write(
        "portcullis.toml",
        "enabled = false\nrepos = [\"elsewhere\"]\n",
    );
    r.write("config/app.env", &format!("API_TOKEN={SECRET}\n"));
    r.commit("disable the gate and add a secret");
    let v = gate(&r);
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
    let fm = v.frontmatter.unwrap();
    assert_eq!(fm.get("skipped").unwrap().as_bool(), Some(false));
}

#[test]
fn out_of_scope_repository_writes_a_skipped_pass() {
    let r = Repo::with_test_config();
    r.checkout_new("task");
    r.write("config/app.env", &format!("API_TOKEN={SECRET}\n"));
    r.commit("secret");
    // Settings held by another repository, with the default (empty) `repos`.
    let other = Repo::with_test_config();
    other.write("portcullis.toml", "timeout_s = 60\n");
    let mut req = SecurityRequest::new(r.path());
    req.base = "main".into();
    req.settings_file = Some(other.path().join("portcullis.toml"));
    let v = security(&req);
    assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    assert!(v.reasons[0].contains("not in the security gate's scope"));
    assert!(r.report().contains("skipped: true"));
    // Listing the repository by name brings it into scope: the secret now fails.
    std::fs::write(
        other.path().join("portcullis.toml"),
        format!(
            "repos = [\"{}\"]\n",
            r.path().file_name().unwrap().to_string_lossy()
        ),
    )
    .unwrap();
    assert_eq!(security(&req).outcome, Outcome::Fail);
}

#[test]
fn cli_exit_status_and_report_path_come_from_the_report() {
    let r = Repo::with_test_config();
    r.checkout_new("task");
    r.write("ok.txt", "fine\n");
    r.commit("fine");
    let out = portcullis(
        r.path(),
        &[
            "gate",
            "security",
            ".",
            "--base",
            "main",
            "--report-file",
            "17-security-report.md",
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "PASS");
    let report = r.path().join("17-security-report.md");
    let out = portcullis(r.path(), &["verdict", report.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0));

    r.write("config/app.env", &format!("API_TOKEN={SECRET}\n"));
    r.commit("secret");
    let out = portcullis(
        r.path(),
        &[
            "gate",
            "security",
            "--base",
            "main",
            "--report-file",
            "17-security-report.md",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "FAIL");
    assert!(String::from_utf8_lossy(&out.stderr).contains("test-token"));
    let out = portcullis(r.path(), &["verdict", report.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!std::fs::read_to_string(&report).unwrap().contains(SECRET));
}

#[test]
fn environment_overrides_the_file_and_flags_override_the_environment() {
    let r = Repo::with_test_config();
    r.write(
        "portcullis.toml",
        "enabled = false\nreport_file = \"main-report.md\"\n",
    );
    r.commit("settings on main: gate off");
    r.checkout_new("task");
    r.write("config/app.env", &format!("API_TOKEN={SECRET}\n"));
    r.commit("secret");
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["gate", "security", "--base", "main"];
        args.extend_from_slice(extra);
        portcullis(r.path(), &args, env).status.code()
    };
    let main_report = r.path().join("main-report.md");
    // The file (as main has it): skipped, written where the file says.
    assert_eq!(run(&[], &[]), Some(0));
    assert!(
        std::fs::read_to_string(&main_report)
            .unwrap()
            .contains("skipped: true")
    );
    // The environment overrides the file.
    assert_eq!(run(&[], &[("PORTCULLIS_ENABLED", "true")]), Some(1));
    assert!(
        std::fs::read_to_string(&main_report)
            .unwrap()
            .contains("verdict: FAIL")
    );
    // A flag overrides the environment.
    assert_eq!(
        run(&["--enabled", "false"], &[("PORTCULLIS_ENABLED", "true")]),
        Some(0)
    );
    assert_eq!(
        run(
            &["--enabled", "true"],
            &[("PORTCULLIS_REPORT_FILE", "env-report.md")]
        ),
        Some(1)
    );
    assert!(r.path().join("env-report.md").is_file());
    // A malformed environment value is a FAIL report (at the default path, since the
    // settings could not be read), not a crash.
    assert_eq!(run(&[], &[("PORTCULLIS_TIMEOUT_S", "soon")]), Some(1));
    assert!(r.report().contains("PORTCULLIS_TIMEOUT_S"));
}
