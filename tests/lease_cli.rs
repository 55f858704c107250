//! `portcullis lease` on the command line: JSON output, exit codes, holder-aware release,
//! and the repository key shared with the merge gate.

use crate::merge_gate_support;

use std::process::Output;

use merge_gate_support::*;
use serde_json::Value;

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn keyed(dir: &std::path::Path, args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(BIN);
    cmd.arg("lease")
        .args(args)
        .args(["--repo-key", "example.org/acme/app", "--lease-dir"])
        .arg(dir);
    git_env(&mut cmd);
    cmd.output().unwrap()
}

#[test]
fn acquire_busy_renew_release_status_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let a = keyed(
        d,
        &[
            "acquire", "--holder", "alice", "--ttl", "60", "--branch", "t1",
        ],
    );
    assert_eq!(a.status.code(), Some(0));
    let a = json(&a);
    assert_eq!(a["result"], "acquired");
    assert_eq!(a["record"]["holder"], "alice");
    assert_eq!(a["record"]["branch"], "t1");
    let token = a["record"]["fencing_token"].as_u64().unwrap();
    let nonce = a["record"]["nonce"].as_str().unwrap().to_string();

    let b = keyed(d, &["acquire", "--holder", "bob"]);
    assert_eq!(b.status.code(), Some(3), "busy is exit 3");
    let b = json(&b);
    assert_eq!(b["result"], "busy");
    assert_eq!(b["record"]["holder"], "alice");
    assert!(b["retry_after_s"].as_u64().unwrap() >= 30);

    let r = keyed(d, &["renew", "--holder", "bob", "--ttl", "600"]);
    assert_eq!(
        r.status.code(),
        Some(1),
        "renew by another holder is refused"
    );
    let r = keyed(
        d,
        &[
            "renew", "--holder", "alice", "--nonce", &nonce, "--ttl", "600",
        ],
    );
    assert_eq!(r.status.code(), Some(0));
    let r = json(&r);
    assert!(
        r["record"]["expires_at"].as_str().unwrap() > a["record"]["expires_at"].as_str().unwrap()
    );

    let s = json(&keyed(d, &["status", "--holder", "alice"]));
    assert_eq!(s["result"], "held");
    assert_eq!(s["stale"], Value::Null);
    assert_eq!(s["yours"], true);
    assert_eq!(
        json(&keyed(d, &["status", "--holder", "bob"]))["yours"],
        false
    );

    let wrong = keyed(d, &["release", "--holder", "bob"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert_eq!(json(&wrong)["result"], "refused");
    assert_eq!(json(&keyed(d, &["status"]))["record"]["holder"], "alice");

    let rel = keyed(d, &["release", "--holder", "alice"]);
    assert_eq!(rel.status.code(), Some(0));
    assert_eq!(json(&rel)["result"], "released");
    let again = keyed(d, &["release", "--holder", "alice", "--nonce", &nonce]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(json(&again)["result"], "already_released");

    let s = json(&keyed(d, &["status"]));
    assert_eq!(s["result"], "free");
    assert_eq!(s["last_fencing_token"].as_u64(), Some(token));
    let c = json(&keyed(d, &["acquire", "--holder", "bob"]));
    assert!(c["record"]["fencing_token"].as_u64().unwrap() > token);
}

#[test]
fn lease_bound_to_an_exited_process_is_reclaimed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let a = keyed(
        d,
        &[
            "acquire",
            "--holder",
            "gate-1",
            "--ttl",
            "3600",
            "--bind-pid",
            &pid,
        ],
    );
    assert_eq!(a.status.code(), Some(0), "{a:?}");
    assert_eq!(
        keyed(d, &["acquire", "--holder", "gate-2"]).status.code(),
        Some(3)
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let s = json(&keyed(d, &["status"]));
    assert_eq!(s["stale"], "holder_process_gone");
    let b = keyed(d, &["acquire", "--holder", "gate-2"]);
    assert_eq!(b.status.code(), Some(0));
    assert_eq!(json(&b)["record"]["holder"], "gate-2");
}

#[test]
fn repo_key_is_the_normalised_remote_url_shared_with_the_gate() {
    let fx = Fixture::new();
    let out = fx.lease_cli(&["acquire", "--holder", "pipeline"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    let expected = format!("file://{}", fx.origin.display());
    assert_eq!(v["key"], expected);
    // The same key from another clone of the same origin, and from the gate.
    assert_eq!(
        portcullis::lease::repo_key(&fx.seed, "origin").unwrap(),
        expected
    );
    let (gate_out, verdict) = fx.run_gate("true", &[]);
    assert_eq!(
        verdict.outcome,
        portcullis::report::Outcome::Defer,
        "{}",
        describe(&gate_out, &verdict)
    );
    assert_eq!(field(&verdict, "repo_key"), Some(expected));
    assert_eq!(field(&verdict, "holder").as_deref(), Some("pipeline"));
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["lease", "acquire", "--holder", "x", "--lease-dir"])
        .arg(tmp.path());
    assert_eq!(
        cmd.output().unwrap().status.code(),
        Some(2),
        "no --repo/--repo-key"
    );
    let out = keyed(tmp.path(), &["acquire", "--holder", ""]);
    assert_eq!(out.status.code(), Some(2), "empty holder");
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["lease", "status", "--repo"])
        .arg(tmp.path().join("not-a-repo"))
        .arg("--lease-dir")
        .arg(tmp.path());
    assert_eq!(cmd.output().unwrap().status.code(), Some(2));
}

#[test]
fn release_of_a_lease_reclaimed_by_another_acquirer_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // alice's lease expires at once; bob reclaims it.
    let a = json(&keyed(d, &["acquire", "--holder", "alice", "--ttl", "0"]));
    let nonce = a["record"]["nonce"].as_str().unwrap().to_string();
    let b = keyed(d, &["acquire", "--holder", "bob", "--ttl", "600"]);
    assert_eq!(b.status.code(), Some(0), "{b:?}");
    // alice lost her lease: releasing it is not a success.
    let rel = keyed(d, &["release", "--holder", "alice", "--nonce", &nonce]);
    assert_eq!(rel.status.code(), Some(1), "{rel:?}");
    let rel = json(&rel);
    assert_eq!(rel["result"], "was_reclaimed");
    assert!(rel["error"].as_str().unwrap().contains("reclaimed"));
    // bob's lease is untouched.
    assert_eq!(json(&keyed(d, &["status"]))["record"]["holder"], "bob");
}
