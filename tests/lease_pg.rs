//! What only the PostgreSQL lease backend has: credentials kept out of every output,
//! fail-closed behaviour when the database is unreachable or goes away, the versioned
//! schema, and the merge gate serialising through the database.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use portcullis::lease::{self, AcquireOptions, Acquisition, LeaseBackend, LeaseState};
use portcullis::report::{Outcome, Verdict, read_verdict};

use crate::lease_pg_server::{self, PgServer};
use crate::lease_pg_suite::json;
use crate::merge_gate_support::{BIN, Fixture, describe, field, git_env};

/// A URL to a port where nothing listens, with credentials that must never be shown.
fn dead_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("postgres://leaky_user:leaky_secret@127.0.0.1:{port}/merges?connect_timeout=3")
}

fn assert_no_credentials(text: &str) {
    for secret in ["leaky_user", "leaky_secret", "lease_test_admin"] {
        assert!(
            !text.contains(secret),
            "credential {secret:?} leaked:\n{text}"
        );
    }
}

fn gate(fx: &Fixture, branch: &str, url: &str, test: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["gate", "merge", "--repo"])
        .arg(&fx.work)
        .args(["--branch", branch, "--test", test, "--lease-url", url])
        .arg("--report-file")
        .arg(&fx.report)
        .current_dir(fx.tmp.path());
    git_env(&mut cmd);
    cmd
}

fn run_gate(fx: &Fixture, url: &str, test: &str) -> (Output, Verdict) {
    let out = gate(fx, "task", url, test).output().unwrap();
    (out, read_verdict(&fx.report))
}

fn report_text(fx: &Fixture) -> String {
    std::fs::read_to_string(&fx.report).unwrap_or_default()
}

fn lease_cli(args: &[&str], key: &str, url: &str) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("lease")
        .args(args)
        .args(["--repo-key", key, "--lease-url", url]);
    git_env(&mut cmd);
    cmd.output().unwrap()
}

#[test]
fn unreachable_database_is_exit_2_and_the_error_names_no_credentials() {
    let url = dead_url();
    let t0 = Instant::now();
    let out = lease_cli(&["acquire", "--holder", "a"], "example.org/x", &url);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("127.0.0.1"),
        "the error names the server: {err}"
    );
    assert!(err.contains("lease database error"), "{err}");
    assert_no_credentials(&err);
    assert_no_credentials(&String::from_utf8_lossy(&out.stdout));
    assert!(
        t0.elapsed() < Duration::from_secs(20),
        "fails fast, never hangs"
    );
    let bad = lease_cli(
        &["status"],
        "example.org/x",
        "mysql://leaky_user:leaky_secret@h/db",
    );
    assert_eq!(bad.status.code(), Some(2));
    assert_no_credentials(&String::from_utf8_lossy(&bad.stderr));
}

#[test]
fn merge_gate_fails_with_lease_error_when_the_database_is_unreachable() {
    let fx = Fixture::new();
    let main = fx.origin_ref("main");
    let (out, v) = run_gate(&fx, &dead_url(), "true");
    assert_eq!(v.outcome, Outcome::Fail, "{}", describe(&out, &v));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(field(&v, "reason").as_deref(), Some("lease_error"));
    assert_no_credentials(&report_text(&fx));
    assert_no_credentials(&String::from_utf8_lossy(&out.stdout));
    assert_no_credentials(&String::from_utf8_lossy(&out.stderr));
    assert_eq!(fx.origin_ref("main"), main);
}

#[test]
fn merge_gate_on_postgres_passes_holding_the_lease_in_the_database_and_defers_others() {
    let url = lease_pg_server::shared_url();
    let fx = Fixture::new();
    let (out, v) = run_gate(&fx, &url, "test -f c.txt");
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    let token: u64 = field(&v, "fencing_token").unwrap().parse().unwrap();
    let key = lease::repo_key(&fx.work, "origin").unwrap();
    let loc = LeaseBackend::from_url(&url)
        .unwrap()
        .location(&key)
        .unwrap();
    let rec = match lease::status(&loc).unwrap() {
        LeaseState::Held { record, stale } => {
            assert_eq!(stale, None);
            record
        }
        other => panic!("the PASS must leave the lease held in the database: {other:?}"),
    };
    assert_eq!(rec.fencing_token, token);
    assert_eq!(field(&v, "lease_nonce"), Some(rec.nonce.clone()));
    assert!(rec.process.is_none(), "unbound from the exited gate");
    let report = report_text(&fx);
    assert!(!report.contains(lease_pg_server::SUPERUSER), "{report}");
    if let Some(s) = lease_pg_server::shared_server() {
        assert!(!report.contains(&s.password), "{report}");
    }
    // Another gate of the same repository defers while the lease is held.
    let (out2, v2) = run_gate(&fx, &url, "true");
    assert_eq!(v2.outcome, Outcome::Defer, "{}", describe(&out2, &v2));
    assert_eq!(out2.status.code(), Some(3));
    // The pipeline merges and releases; the next gate gets a greater token.
    let rel = lease_cli(
        &["release", "--holder", &rec.holder, "--nonce", &rec.nonce],
        &key,
        &url,
    );
    assert_eq!(json(&rel)["result"], "released");
    let (out3, v3) = run_gate(&fx, &url, "true");
    assert_eq!(v3.outcome, Outcome::Pass, "{}", describe(&out3, &v3));
    let token3: u64 = field(&v3, "fencing_token").unwrap().parse().unwrap();
    assert!(token3 > token);
}

#[test]
fn merge_gate_fails_closed_when_the_database_goes_away_while_it_tests() {
    let server = PgServer::start(true);
    let url = server.url_without_password();
    let fx = Fixture::new();
    let main = fx.origin_ref("main");
    let task = fx.origin_ref("task");
    // TTL 2 s: the gate renews every ~0.7 s while the 8 s test runs.
    let child = gate(&fx, "task", &url, "sleep 8")
        .args(["--ttl", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Stop the server once the gate holds the lease (its test is running by then).
    let key = lease::repo_key(&fx.work, "origin").unwrap();
    let loc = LeaseBackend::from_url(&url)
        .unwrap()
        .location(&key)
        .unwrap();
    let t0 = Instant::now();
    while !matches!(lease::status(&loc), Ok(LeaseState::Held { .. })) {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the gate never took the lease"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    server.stop();
    let out = child.wait_with_output().unwrap();
    let v = read_verdict(&fx.report);
    assert_eq!(v.outcome, Outcome::Fail, "{}", describe(&out, &v));
    assert_eq!(
        field(&v, "reason").as_deref(),
        Some("lease_error"),
        "{}",
        describe(&out, &v)
    );
    assert_eq!(fx.origin_ref("main"), main, "nothing landed");
    assert_eq!(fx.origin_ref("task"), task, "nothing pushed");
}

#[test]
fn password_comes_from_pgpassfile_or_pgpassword_and_a_readable_pgpass_is_ignored() {
    // Needs a server with password authentication whose password the test knows.
    let own;
    let server = match lease_pg_server::shared_server() {
        Some(s) => s,
        None => {
            own = PgServer::start(false);
            &own
        }
    };
    let url = server.url_without_password();
    let key = lease_pg_server::unique_key("pgpass");
    let tmp = tempfile::tempdir().unwrap();
    let pgpass = tmp.path().join("pgpass");
    std::fs::write(
        &pgpass,
        format!(
            "# comment\nother:1:*:*:nope\n127.0.0.1:{}:*:{}:{}\n",
            server.port,
            lease_pg_server::SUPERUSER,
            server.password
        ),
    )
    .unwrap();
    let run = |mode: u32, env: &[(&str, &str)]| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(mode)).unwrap();
        let mut cmd = Command::new(BIN);
        cmd.args(["lease", "status", "--repo-key", &key, "--lease-url", &url]);
        git_env(&mut cmd);
        cmd.env_remove("PGPASSWORD").env("PGPASSFILE", &pgpass);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let ok = run(0o600, &[]);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert_eq!(json(&ok)["result"], "free");
    let ignored = run(0o644, &[]);
    assert_eq!(
        ignored.status.code(),
        Some(2),
        "a readable pgpass is ignored"
    );
    let err = String::from_utf8_lossy(&ignored.stderr);
    assert!(!err.contains(&server.password), "{err}");
    assert!(!err.contains(lease_pg_server::SUPERUSER), "{err}");
    let by_env = run(0o644, &[("PGPASSWORD", &server.password)]);
    assert_eq!(by_env.status.code(), Some(0), "{by_env:?}");
    // The environment also names the database: PORTCULLIS_LEASE_URL instead of the flag.
    let mut cmd = Command::new(BIN);
    cmd.args(["lease", "acquire", "--holder", "env", "--repo-key", &key]);
    git_env(&mut cmd);
    cmd.env("PORTCULLIS_LEASE_URL", server.url_with_password());
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let j = json(&out);
    assert_eq!(j["backend"], "postgres");
    assert!(
        !out.stdout
            .windows(server.password.len())
            .any(|w| w == server.password.as_bytes())
    );
}

#[test]
fn schema_is_created_on_first_use_versioned_and_a_newer_schema_is_refused() {
    let admin_url = lease_pg_server::shared_url();
    let db = format!("lease_schema_{:x}", fastrand::u64(..));
    let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    let base = admin_url.split('?').next().unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    let url = format!("{prefix}/{db}?sslmode=disable");
    // Concurrent first users: the advisory lock makes exactly one create the tables.
    let handles: Vec<_> = (0..6)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let loc = LeaseBackend::from_url(&url).unwrap().location("k").unwrap();
                lease::acquire(
                    &loc,
                    &AcquireOptions::new(format!("h{i}"), Duration::from_secs(60)),
                )
                .unwrap()
            })
        })
        .collect();
    let acquired = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|a| matches!(a, Acquisition::Acquired(_)))
        .count();
    assert_eq!(acquired, 1);
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let v: i32 = c
        .query_one("SELECT version FROM portcullis_lease_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(v, lease::PG_SCHEMA_VERSION);
    let rows: i64 = c
        .query_one("SELECT count(*) FROM portcullis_lease", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1, "one row per lease key");
    c.execute("UPDATE portcullis_lease_schema SET version = 99", &[])
        .unwrap();
    let loc = LeaseBackend::from_url(&url).unwrap().location("k").unwrap();
    let err = lease::status(&loc).unwrap_err().to_string();
    assert!(err.contains("newer"), "{err}");
    drop(c);
    admin
        .batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
        .unwrap();
}

#[test]
fn gate_all_lands_main_on_postgres_inside_the_fence_and_releases_the_lease() {
    let url = lease_pg_server::shared_url();
    let fx = Fixture::new();
    let all_report = fx.tmp.path().join("all-report.md");
    let mut cmd = Command::new(BIN);
    cmd.args(["gate", "all", "--repo"])
        .arg(&fx.work)
        .args([
            "--branch",
            "task",
            "--test",
            "true",
            "--land",
            "--lease-url",
            &url,
        ])
        .arg("--report-file")
        .arg(&all_report)
        .arg("--merge-report")
        .arg(&fx.report)
        .current_dir(fx.tmp.path());
    git_env(&mut cmd);
    let out = cmd.output().unwrap();
    let v = read_verdict(&all_report);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    let landed = field(&v, "landed_sha").expect("landed_sha");
    assert_eq!(fx.origin_ref("main"), landed);
    assert_eq!(field(&v, "tested_sha").as_deref(), Some(landed.as_str()));
    // Landed inside the fence, then released: the database holds no lease for the repository.
    let key = lease::repo_key(&fx.work, "origin").unwrap();
    let loc = LeaseBackend::from_url(&url)
        .unwrap()
        .location(&key)
        .unwrap();
    assert!(
        matches!(lease::status(&loc).unwrap(), LeaseState::Free),
        "the lease must be released after landing"
    );
    let text = std::fs::read_to_string(&all_report).unwrap();
    assert!(!text.contains(lease_pg_server::SUPERUSER), "{text}");
}
