//! The lease contract, run against both backends: every test below exists twice, as
//! `file::<name>` (lease files in a temporary directory) and `postgres::<name>` (a real
//! PostgreSQL server, see `lease_pg_server`). Same CLI results, same exit codes.

use std::process::{Command, Output};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use portcullis::lease::{
    self, AcquireOptions, Acquisition, Binding, LeaseBackend, LeaseError, LeaseLocation,
    LeaseState, ProcessBinding, Released, StaleReason,
};
use serde_json::Value;

use crate::lease_pg_server;
use crate::merge_gate_support::{BIN, git_env};

/// One backend under test.
pub enum Backend {
    File(tempfile::TempDir),
    Postgres(String),
}

impl Backend {
    pub fn file() -> Backend {
        Backend::File(tempfile::tempdir().unwrap())
    }

    pub fn postgres() -> Backend {
        Backend::Postgres(lease_pg_server::shared_url())
    }

    pub fn lease_backend(&self) -> LeaseBackend {
        match self {
            Backend::File(d) => LeaseBackend::Files(d.path().to_path_buf()),
            Backend::Postgres(url) => LeaseBackend::from_url(url).unwrap(),
        }
    }

    pub fn loc(&self, key: &str) -> LeaseLocation {
        self.lease_backend().location(key).unwrap()
    }

    /// `--lease-dir DIR` or `--lease-url URL`.
    pub fn flags(&self) -> Vec<String> {
        match self {
            Backend::File(d) => vec!["--lease-dir".into(), d.path().display().to_string()],
            Backend::Postgres(url) => vec!["--lease-url".into(), url.clone()],
        }
    }

    /// `portcullis lease <args> --repo-key KEY <backend flags>`.
    pub fn cli(&self, key: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.arg("lease")
            .args(args)
            .args(["--repo-key", key])
            .args(self.flags());
        git_env(&mut cmd);
        cmd.output().unwrap()
    }
}

pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn key(name: &str) -> String {
    lease_pg_server::unique_key(name)
}

fn cli_round_trip(b: &Backend) {
    let k = key("round-trip");
    let a = b.cli(
        &k,
        &[
            "acquire", "--holder", "alice", "--ttl", "60", "--branch", "t1",
        ],
    );
    assert_eq!(a.status.code(), Some(0), "{a:?}");
    let a = json(&a);
    assert_eq!(a["result"], "acquired");
    assert_eq!(a["record"]["holder"], "alice");
    assert_eq!(a["record"]["branch"], "t1");
    let token = a["record"]["fencing_token"].as_u64().unwrap();
    let nonce = a["record"]["nonce"].as_str().unwrap().to_string();

    let busy = b.cli(&k, &["acquire", "--holder", "bob"]);
    assert_eq!(busy.status.code(), Some(3), "busy is exit 3");
    let busy = json(&busy);
    assert_eq!(busy["result"], "busy");
    assert_eq!(busy["record"]["holder"], "alice");

    let r = b.cli(&k, &["renew", "--holder", "bob", "--ttl", "600"]);
    assert_eq!(
        r.status.code(),
        Some(1),
        "renew by another holder is refused"
    );
    assert_eq!(json(&r)["result"], "refused");
    let r = b.cli(
        &k,
        &[
            "renew", "--holder", "alice", "--nonce", "wrong", "--ttl", "600",
        ],
    );
    assert_eq!(
        r.status.code(),
        Some(1),
        "renew with another nonce is refused"
    );
    let r = b.cli(
        &k,
        &[
            "renew", "--holder", "alice", "--nonce", &nonce, "--ttl", "600",
        ],
    );
    assert_eq!(r.status.code(), Some(0));
    let r = json(&r);
    assert_eq!(r["result"], "renewed");
    assert_eq!(r["record"]["fencing_token"].as_u64(), Some(token));

    let st = b.cli(&k, &["status", "--holder", "alice"]);
    assert_eq!(st.status.code(), Some(0));
    let st = json(&st);
    assert_eq!(st["result"], "held");
    assert_eq!(st["yours"], true);
    assert_eq!(st["stale"], Value::Null);

    let rel = b.cli(&k, &["release", "--holder", "bob"]);
    assert_eq!(
        rel.status.code(),
        Some(1),
        "release by another holder is refused"
    );
    assert_eq!(json(&rel)["result"], "refused");
    let rel = b.cli(&k, &["release", "--holder", "alice", "--nonce", &nonce]);
    assert_eq!(rel.status.code(), Some(0));
    assert_eq!(json(&rel)["result"], "released");
    let again = b.cli(&k, &["release", "--holder", "alice", "--nonce", &nonce]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(json(&again)["result"], "already_released");
    let none = b.cli(&k, &["release", "--holder", "carol"]);
    assert_eq!(none.status.code(), Some(0));
    assert_eq!(json(&none)["result"], "not_held");
    let renew_free = b.cli(&k, &["renew", "--holder", "alice"]);
    assert_eq!(
        renew_free.status.code(),
        Some(1),
        "renew with no lease is not_held"
    );
    assert_eq!(json(&renew_free)["result"], "not_held");

    let st = json(&b.cli(&k, &["status"]));
    assert_eq!(st["result"], "free");
    assert_eq!(st["last_fencing_token"].as_u64(), Some(token));

    let a2 = json(&b.cli(&k, &["acquire", "--holder", "bob"]));
    assert_eq!(a2["result"], "acquired");
    assert!(a2["record"]["fencing_token"].as_u64().unwrap() > token);
}

fn expired_lease_is_reclaimed_and_its_holder_is_told(b: &Backend) {
    let loc = b.loc(&key("expired"));
    let Acquisition::Acquired(old) =
        lease::acquire(&loc, &AcquireOptions::new("crashed", Duration::ZERO)).unwrap()
    else {
        panic!("first acquisition must succeed")
    };
    match lease::status(&loc).unwrap() {
        LeaseState::Held { stale, .. } => assert_eq!(stale, Some(StaleReason::Expired)),
        other => panic!("expected a stale lease, got {other:?}"),
    }
    let Acquisition::Acquired(new) =
        lease::acquire(&loc, &AcquireOptions::new("next", Duration::from_secs(60))).unwrap()
    else {
        panic!("a stale lease must be reclaimed")
    };
    assert!(new.fencing_token > old.fencing_token);
    assert!(matches!(
        lease::renew(&loc, "crashed", Some(&old.nonce), Duration::from_secs(60)),
        Err(LeaseError::WrongHolder { .. })
    ));
    assert_eq!(
        lease::release(&loc, "crashed", Some(&old.nonce)).unwrap(),
        Released::WasReclaimed
    );
    // The live lease is untouched by all that.
    match lease::status(&loc).unwrap() {
        LeaseState::Held { record, stale } => {
            assert_eq!(record.nonce, new.nonce);
            assert_eq!(stale, None);
        }
        other => panic!("expected next's lease, got {other:?}"),
    }
}

fn concurrent_reclaimers_produce_exactly_one_winner(b: &Backend) {
    let loc = b.loc(&key("race"));
    let mut last = 0;
    for round in 0..8 {
        let stale = AcquireOptions::new(format!("crashed-{round}"), Duration::ZERO);
        let Acquisition::Acquired(s) = lease::acquire(&loc, &stale).unwrap() else {
            panic!("round {round}: the previous lease must be stale")
        };
        assert!(s.fencing_token > last);
        let barrier = Arc::new(Barrier::new(10));
        let handles: Vec<_> = (0..10)
            .map(|i| {
                let loc = loc.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let opts =
                        AcquireOptions::new(format!("r{round}-{i}"), Duration::from_secs(60));
                    barrier.wait();
                    lease::acquire(&loc, &opts).unwrap()
                })
            })
            .collect();
        let winners: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter_map(|r| match r {
                Acquisition::Acquired(rec) => Some(rec),
                Acquisition::Busy(_) => None,
            })
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        assert!(winners[0].fencing_token > s.fencing_token);
        last = winners[0].fencing_token;
        lease::release(&loc, &winners[0].holder, Some(&winners[0].nonce)).unwrap();
    }
}

fn tokens_strictly_increase_through_release_and_reclaim(b: &Backend) {
    let loc = b.loc(&key("tokens"));
    let mut last = lease::last_fencing_token(&loc).unwrap();
    assert_eq!(last, 0, "a new key starts at 0");
    for i in 0..12 {
        let ttl = if i % 3 == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(60)
        };
        let Acquisition::Acquired(rec) =
            lease::acquire(&loc, &AcquireOptions::new(format!("h{i}"), ttl)).unwrap()
        else {
            panic!("cycle {i}: busy")
        };
        assert!(
            rec.fencing_token > last,
            "cycle {i}: {} after {last}",
            rec.fencing_token
        );
        last = rec.fencing_token;
        assert_eq!(lease::last_fencing_token(&loc).unwrap(), last);
        if ttl > Duration::ZERO {
            lease::release(&loc, &rec.holder, Some(&rec.nonce)).unwrap();
        }
    }
}

fn while_held_runs_only_for_the_current_token(b: &Backend) {
    let loc = b.loc(&key("fence"));
    let Acquisition::Acquired(rec) = lease::acquire(
        &loc,
        &AcquireOptions::new("lander", Duration::from_secs(60)),
    )
    .unwrap() else {
        panic!("busy")
    };
    let mut ran = 0;
    let out = lease::while_held(&loc, "lander", &rec.nonce, rec.fencing_token, || {
        ran += 1;
        "landed"
    });
    assert_eq!(out.unwrap(), "landed");
    assert_eq!(ran, 1);
    let stale_token = lease::while_held(&loc, "lander", &rec.nonce, rec.fencing_token - 1, || {
        ran += 1;
    });
    assert!(
        matches!(stale_token, Err(LeaseError::Fenced { .. })),
        "{stale_token:?}"
    );
    let other = lease::while_held(&loc, "intruder", &rec.nonce, rec.fencing_token, || ran += 1);
    assert!(
        matches!(other, Err(LeaseError::WrongHolder { .. })),
        "{other:?}"
    );
    // Once the lease has expired (renewed to a zero TTL), the fence refuses, before anyone
    // reclaims it.
    lease::renew(&loc, "lander", Some(&rec.nonce), Duration::ZERO).unwrap();
    let expired = lease::while_held(&loc, "lander", &rec.nonce, rec.fencing_token, || ran += 1);
    assert!(
        matches!(expired, Err(LeaseError::Fenced { .. })),
        "{expired:?}"
    );
    assert_eq!(ran, 1, "the step ran only while the token held the lease");
    lease::release(&loc, "lander", Some(&rec.nonce)).unwrap();
    let released = lease::while_held(&loc, "lander", &rec.nonce, rec.fencing_token, || ran += 1);
    assert!(
        matches!(released, Err(LeaseError::Fenced { .. })),
        "{released:?}"
    );
    assert_eq!(ran, 1);
}

fn lease_bound_to_a_dead_process_is_stale_and_unbinding_keeps_it(b: &Backend) {
    let loc = b.loc(&key("bound"));
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    let binding = ProcessBinding::of_pid(child.id()).expect("/proc binding");
    let opts = AcquireOptions {
        process: Some(binding.clone()),
        ..AcquireOptions::new("gate", Duration::from_secs(600))
    };
    let Acquisition::Acquired(rec) = lease::acquire(&loc, &opts).unwrap() else {
        panic!("busy")
    };
    let busy = lease::acquire(&loc, &AcquireOptions::new("other", Duration::from_secs(60)));
    assert!(
        matches!(busy.unwrap(), Acquisition::Busy(_)),
        "live process: busy"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    match lease::status(&loc).unwrap() {
        LeaseState::Held { stale, .. } => {
            assert_eq!(stale, Some(StaleReason::HolderProcessGone))
        }
        other => panic!("{other:?}"),
    }
    // Unbinding (what the gate does on PASS) makes the lease live by its TTL only.
    let kept = lease::renew_with(
        &loc,
        "gate",
        Some(&rec.nonce),
        Duration::from_secs(600),
        Binding::Clear,
    )
    .unwrap();
    assert_eq!(kept.process, None);
    let busy = lease::acquire(&loc, &AcquireOptions::new("other", Duration::from_secs(60)));
    assert!(
        matches!(busy.unwrap(), Acquisition::Busy(_)),
        "unbound: TTL only"
    );
    lease::renew_with(
        &loc,
        "gate",
        Some(&rec.nonce),
        Duration::from_secs(600),
        Binding::Set(binding),
    )
    .unwrap();
    let Acquisition::Acquired(next) =
        lease::acquire(&loc, &AcquireOptions::new("other", Duration::from_secs(60))).unwrap()
    else {
        panic!("a lease re-bound to a dead process must be reclaimed")
    };
    assert!(next.fencing_token > rec.fencing_token);
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod file {
            $(#[test] fn $name() { super::$name(&super::Backend::file()); })*
        }
        mod postgres {
            $(#[test] fn $name() { super::$name(&super::Backend::postgres()); })*
        }
    };
}

suite!(
    cli_round_trip,
    expired_lease_is_reclaimed_and_its_holder_is_told,
    concurrent_reclaimers_produce_exactly_one_winner,
    tokens_strictly_increase_through_release_and_reclaim,
    while_held_runs_only_for_the_current_token,
    lease_bound_to_a_dead_process_is_stale_and_unbinding_keeps_it,
);
