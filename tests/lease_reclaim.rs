//! Reclaim races and fail-closed reading of the lease, through the library.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use portcullis::lease::{
    self, AcquireOptions, Acquisition, LeaseError, LeaseLocation, LeaseState, Released,
};

#[test]
fn concurrent_reclaimers_of_an_expired_lease_produce_exactly_one_winner() {
    let tmp = tempfile::tempdir().unwrap();
    let loc = LeaseLocation::new(tmp.path(), "example.org/race").unwrap();
    for round in 0..20 {
        // An already expired lease of a crashed holder.
        let stale = AcquireOptions::new(format!("crashed-{round}"), Duration::ZERO);
        assert!(matches!(
            lease::acquire(&loc, &stale).unwrap(),
            Acquisition::Acquired(_)
        ));
        let barrier = Arc::new(Barrier::new(12));
        let handles: Vec<_> = (0..12)
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
        let results: Vec<Acquisition> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let winners: Vec<_> = results
            .iter()
            .filter_map(|r| match r {
                Acquisition::Acquired(rec) => Some(rec.clone()),
                Acquisition::Busy(_) => None,
            })
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        for r in &results {
            if let Acquisition::Busy(cur) = r {
                assert_eq!(cur.nonce, winners[0].nonce, "busy must name the winner");
            }
        }
        let w = &winners[0];
        assert!(matches!(
            lease::release(&loc, &w.holder, Some(&w.nonce)).unwrap(),
            Released::Released(_)
        ));
    }
}

#[test]
fn same_holder_with_an_old_nonce_cannot_release_a_newer_lease() {
    let tmp = tempfile::tempdir().unwrap();
    let loc = LeaseLocation::new(tmp.path(), "example.org/nonce").unwrap();
    let Acquisition::Acquired(first) =
        lease::acquire(&loc, &AcquireOptions::new("task", Duration::ZERO)).unwrap()
    else {
        panic!()
    };
    // Expired, reclaimed by a new acquisition under the same holder id.
    let Acquisition::Acquired(second) =
        lease::acquire(&loc, &AcquireOptions::new("task", Duration::from_secs(60))).unwrap()
    else {
        panic!()
    };
    assert_ne!(first.nonce, second.nonce);
    // The old acquisition learns that it lost its lease; the new one is untouched.
    assert_eq!(
        lease::release(&loc, "task", Some(&first.nonce)).unwrap(),
        Released::WasReclaimed
    );
    match lease::status(&loc).unwrap() {
        LeaseState::Held { record, .. } => assert_eq!(record.nonce, second.nonce),
        LeaseState::Free => panic!("the newer lease was released by a stale nonce"),
    }
    assert!(matches!(
        lease::renew(&loc, "task", Some("not-the-nonce"), Duration::from_secs(5)),
        Err(LeaseError::NonceMismatch { .. })
    ));
}

#[test]
fn corrupt_lease_file_is_an_error_naming_it_not_a_free_lease() {
    let tmp = tempfile::tempdir().unwrap();
    let loc = LeaseLocation::new(tmp.path(), "example.org/corrupt").unwrap();
    std::fs::write(loc.lease_path(), b"{ not json").unwrap();
    let e = lease::acquire(&loc, &AcquireOptions::new("x", Duration::from_secs(5))).unwrap_err();
    assert!(
        e.to_string().contains(&*loc.lease_path().to_string_lossy()),
        "{e}"
    );
    assert!(lease::status(&loc).is_err());
    // Nothing was replaced.
    assert_eq!(std::fs::read(loc.lease_path()).unwrap(), b"{ not json");
}

#[test]
fn crashed_acquirers_temp_files_are_collected() {
    let tmp = tempfile::tempdir().unwrap();
    let loc = LeaseLocation::new(tmp.path(), "example.org/gc").unwrap();
    let stem = loc
        .lease_path()
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let orphan = tmp.path().join(format!("{stem}.tmp.deadbeef"));
    std::fs::write(&orphan, b"partial").unwrap();
    let Acquisition::Acquired(_) =
        lease::acquire(&loc, &AcquireOptions::new("x", Duration::from_secs(5))).unwrap()
    else {
        panic!()
    };
    assert!(!orphan.exists());
}

/// Poll `f` until it holds, for at most 10 s.
fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let t = std::time::Instant::now();
    while !f() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "timed out waiting: {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn pid_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

#[test]
fn dead_holder_with_live_children_is_not_stale_until_they_are_ended() {
    use std::os::unix::process::CommandExt;
    let tmp = tempfile::tempdir().unwrap();
    let loc = LeaseLocation::new(tmp.path(), "example.org/children").unwrap();
    // The "gate": a process the lease is bound to.
    let mut holder = std::process::Command::new("sleep")
        .arg("300")
        .spawn()
        .unwrap();
    let Some(binding) = lease::ProcessBinding::of_pid(holder.id()) else {
        let _ = holder.kill();
        let _ = holder.wait();
        return; // no /proc here
    };
    let mut opts = AcquireOptions::new("gate", Duration::from_secs(3600));
    opts.process = Some(binding);
    let Acquisition::Acquired(rec) = lease::acquire(&loc, &opts).unwrap() else {
        panic!("setup: lease should be free")
    };
    // Its test command: a group whose leader leaves a background child behind.
    let marker = lease::ProcessGroup::new_marker();
    let bg = tmp.path().join("bg.pid");
    let mut leader = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("sleep 300 & echo $! > {}; wait", bg.display()))
        .env(lease::GROUP_MARKER_ENV, &marker)
        .process_group(0)
        .spawn()
        .unwrap();
    let group = lease::ProcessGroup::of_leader(leader.id(), &marker).unwrap();
    lease::record_children(&loc, "gate", &rec.nonce, &group, "test command").unwrap();
    let mut bg_pid = 0u32;
    wait_until("background pid", || {
        bg_pid = std::fs::read_to_string(&bg)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        bg_pid != 0
    });
    // The holder and the leader die; the background child lives on.
    holder.kill().unwrap();
    holder.wait().unwrap();
    leader.kill().unwrap();
    leader.wait().unwrap();
    assert!(pid_alive(bg_pid));
    match lease::status(&loc).unwrap() {
        LeaseState::Held { stale, .. } => assert_eq!(stale, None, "children still run"),
        LeaseState::Free => panic!("lease vanished"),
    }
    assert!(matches!(
        lease::acquire(&loc, &AcquireOptions::new("next", Duration::from_secs(60))).unwrap(),
        Acquisition::Busy(_)
    ));
    // Ending the leftovers makes the lease reclaimable.
    let ended = lease::end_leftover_children(&loc).unwrap().unwrap();
    assert_eq!(ended.killed, 1);
    assert_eq!(ended.children.what, "test command");
    wait_until("background child gone", || !pid_alive(bg_pid));
    assert_eq!(lease::children(&loc).unwrap(), None);
    match lease::status(&loc).unwrap() {
        LeaseState::Held { stale, .. } => {
            assert_eq!(stale, Some(lease::StaleReason::HolderProcessGone))
        }
        LeaseState::Free => panic!("lease vanished"),
    }
    assert!(matches!(
        lease::acquire(&loc, &AcquireOptions::new("next", Duration::from_secs(60))).unwrap(),
        Acquisition::Acquired(_)
    ));
}

#[test]
fn children_of_a_live_holder_are_left_alone_and_only_the_holder_may_record_them() {
    use std::os::unix::process::CommandExt;
    let tmp = tempfile::tempdir().unwrap();
    let loc = LeaseLocation::new(tmp.path(), "example.org/live").unwrap();
    let mut opts = AcquireOptions::new("gate", Duration::from_secs(3600));
    opts.process = lease::ProcessBinding::current();
    let Acquisition::Acquired(rec) = lease::acquire(&loc, &opts).unwrap() else {
        panic!()
    };
    let marker = lease::ProcessGroup::new_marker();
    let mut leader = std::process::Command::new("sleep")
        .arg("300")
        .env(lease::GROUP_MARKER_ENV, &marker)
        .process_group(0)
        .spawn()
        .unwrap();
    let Some(group) = lease::ProcessGroup::of_leader(leader.id(), &marker) else {
        let _ = leader.kill();
        let _ = leader.wait();
        return;
    };
    assert!(matches!(
        lease::record_children(&loc, "intruder", &rec.nonce, &group, "x"),
        Err(LeaseError::WrongHolder { .. })
    ));
    lease::record_children(&loc, "gate", &rec.nonce, &group, "test command").unwrap();
    // The holder (this process) lives: nothing is ended.
    assert_eq!(lease::end_leftover_children(&loc).unwrap(), None);
    assert!(pid_alive(leader.id()));
    lease::clear_children(&loc, &rec.nonce, &group).unwrap();
    assert_eq!(lease::children(&loc).unwrap(), None);
    leader.kill().unwrap();
    leader.wait().unwrap();
}
