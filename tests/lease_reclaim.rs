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
