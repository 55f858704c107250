//! Stress test of the lease: 8 processes × 200 acquire/release cycles with random SIGKILLs of
//! holders and short TTLs. Every hold is logged to an append-only file as
//! `E <token> <slot> <pid> <t_ns>` on entry and `X <token> <slot> <pid> <t_ns> <ok|killed>`
//! on exit; the parent logs `K <pid> <t_ns>` before each SIGKILL it sends. Afterwards the log
//! must show zero overlapping holds and strictly increasing tokens.
//!
//! The worker processes are this test binary re-executed with `STRESS_WORKER=1`, running the
//! `lease_stress::stress_worker_entry` test (its full name in the `gates` test binary), which
//! is a no-op otherwise.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::stress_log::{append, entries_per_slot, mono_ns};
use portcullis::lease::{
    self, AcquireOptions, Acquisition, LeaseLocation, ProcessBinding, Released,
};

const SLOTS: usize = 8;
const CYCLES: usize = 200;
const KEY: &str = "stress.example/repo";
/// Slots at or above this index hold TTL-only leases (like `portcullis lease acquire`
/// without a bound process); the others bind their process like the gate.
const FIRST_UNBOUND_SLOT: usize = 7;
const BOUND_TTL: Duration = Duration::from_secs(2);
const UNBOUND_TTL: Duration = Duration::from_millis(1000);
const PARENT_KILLS: usize = 30;
const WATCHDOG: Duration = Duration::from_secs(180);

#[test]
fn stress_worker_entry() {
    if std::env::var_os("STRESS_WORKER").is_none() {
        return;
    }
    let dir = PathBuf::from(std::env::var("STRESS_DIR").unwrap());
    let slot: usize = std::env::var("STRESS_SLOT").unwrap().parse().unwrap();
    let cycles: usize = std::env::var("STRESS_CYCLES").unwrap().parse().unwrap();
    let mut log = OpenOptions::new()
        .append(true)
        .open(std::env::var("STRESS_LOG").unwrap())
        .unwrap();
    let loc = LeaseLocation::new(&dir, KEY).unwrap();
    let pid = std::process::id();
    let holder = format!("slot{slot}-{pid}");
    let bound = slot < FIRST_UNBOUND_SLOT;
    let mut opts = AcquireOptions::new(holder.clone(), if bound { BOUND_TTL } else { UNBOUND_TTL });
    if bound {
        opts.process = ProcessBinding::current();
    }
    let mut done = 0;
    while done < cycles {
        let rec = match lease::acquire(&loc, &opts).unwrap() {
            Acquisition::Busy(_) => {
                std::thread::sleep(Duration::from_micros(300 + fastrand::u64(0..700)));
                continue;
            }
            Acquisition::Acquired(rec) => rec,
        };
        append(
            &mut log,
            format!("E {} {slot} {pid} {}\n", rec.fencing_token, mono_ns()),
        );
        std::thread::sleep(Duration::from_micros(fastrand::u64(0..1500)));
        if fastrand::u32(0..100) < 2 {
            append(
                &mut log,
                format!(
                    "X {} {slot} {pid} {} killed\n",
                    rec.fencing_token,
                    mono_ns()
                ),
            );
            // The worker kills itself while holding the lease.
            portcullis_unsafe::process::kill(std::process::id(), libc::SIGKILL);
        }
        append(
            &mut log,
            format!("X {} {slot} {pid} {} ok\n", rec.fencing_token, mono_ns()),
        );
        match lease::release(&loc, &holder, Some(&rec.nonce)).unwrap() {
            Released::Released(_) => {}
            other => panic!("worker {holder} lost its lease: {other:?}"),
        }
        done += 1;
    }
}

fn spawn_worker(dir: &Path, log: &Path, slot: usize, cycles: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "lease_stress::stress_worker_entry",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("STRESS_WORKER", "1")
        .env("STRESS_DIR", dir)
        .env("STRESS_LOG", log)
        .env("STRESS_SLOT", slot.to_string())
        .env("STRESS_CYCLES", cycles.to_string())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[derive(Debug)]
struct Hold {
    token: u64,
    pid: u32,
    enter: u128,
    exit: Option<u128>,
}

#[test]
fn eight_processes_with_sigkills_never_hold_the_lease_together() {
    if std::env::var_os("STRESS_WORKER").is_some() {
        return;
    }
    // STRESS_TMPDIR lets a run put the lease directory on another file system (e.g. tmpfs
    // to take fsync latency out of the picture); the default is the system temp dir.
    let tmp = match std::env::var_os("STRESS_TMPDIR") {
        Some(d) => tempfile::tempdir_in(d).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    let dir = tmp.path().join("leases");
    let log = tmp.path().join("holds.log");
    File::create(&log).unwrap();
    let mut logf = OpenOptions::new().append(true).open(&log).unwrap();
    let t0 = Instant::now();
    let mut workers: Vec<Option<Child>> = (0..SLOTS)
        .map(|s| Some(spawn_worker(&dir, &log, s, CYCLES)))
        .collect();
    let mut parent_kills = 0;
    let mut crashes = 0;
    let mut next_kill = Instant::now() + Duration::from_millis(100);
    loop {
        assert!(t0.elapsed() < WATCHDOG, "stress test hung");
        let mut running = 0;
        for (slot, worker) in workers.iter_mut().enumerate() {
            let Some(child) = worker.as_mut() else {
                continue;
            };
            match child.try_wait().unwrap() {
                None => running += 1,
                Some(status) => {
                    *worker = None;
                    let done = entries_per_slot(&log, SLOTS)[slot];
                    if !status.success() {
                        crashes += 1;
                        assert!(
                            status.code().is_none(),
                            "worker of slot {slot} failed: {status:?}"
                        );
                    }
                    if done < CYCLES {
                        *worker = Some(spawn_worker(&dir, &log, slot, CYCLES - done));
                        running += 1;
                    }
                }
            }
        }
        if running == 0 {
            break;
        }
        if parent_kills < PARENT_KILLS && Instant::now() >= next_kill {
            next_kill = Instant::now() + Duration::from_millis(50 + fastrand::u64(0..200));
            let slot = fastrand::usize(0..SLOTS);
            if let Some(child) = workers[slot].as_mut() {
                append(&mut logf, format!("K {} {}\n", child.id(), mono_ns()));
                let _ = child.kill();
                parent_kills += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let elapsed = t0.elapsed();

    // Check the log.
    let text = std::fs::read_to_string(&log).unwrap();
    let mut holds: HashMap<u64, Hold> = HashMap::new();
    let mut killed_at: HashMap<u32, u128> = HashMap::new();
    let mut self_kills = 0;
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        match f[0] {
            "E" => {
                let token: u64 = f[1].parse().unwrap();
                let h = Hold {
                    token,
                    pid: f[3].parse().unwrap(),
                    enter: f[4].parse().unwrap(),
                    exit: None,
                };
                assert!(
                    holds.insert(token, h).is_none(),
                    "token {token} handed out twice"
                );
            }
            "X" => {
                let token: u64 = f[1].parse().unwrap();
                let h = holds.get_mut(&token).expect("exit without entry");
                assert_eq!(h.pid, f[3].parse::<u32>().unwrap());
                h.exit = Some(f[4].parse().unwrap());
                if f[5] == "killed" {
                    self_kills += 1;
                }
            }
            "K" => {
                killed_at.insert(f[1].parse().unwrap(), f[2].parse().unwrap());
            }
            other => panic!("bad log record {other}"),
        }
    }
    let mut holds: Vec<Hold> = holds.into_values().collect();
    for h in &mut holds {
        if h.exit.is_none() {
            // Killed by the parent while holding: the hold ended no earlier than the kill.
            let k = killed_at
                .get(&h.pid)
                .unwrap_or_else(|| panic!("hold {h:?} never ended and its process was not killed"));
            h.exit = Some((*k).max(h.enter));
        }
    }
    holds.sort_by_key(|h| h.enter);
    for pair in holds.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            b.token > a.token,
            "tokens not increasing in time order: {a:?} then {b:?}"
        );
        assert!(
            a.exit.unwrap() <= b.enter,
            "overlapping holds: {a:?} and {b:?}"
        );
    }
    let per_slot = entries_per_slot(&log, SLOTS);
    assert_eq!(per_slot, vec![CYCLES; SLOTS]);
    let tombstones = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".stale."))
        .count();
    eprintln!(
        "lease stress: {} holds, {self_kills} self-SIGKILLs while holding, {parent_kills} \
         parent SIGKILLs ({crashes} worker deaths), {tombstones} stale leases reclaimed, {:.1}s",
        holds.len(),
        elapsed.as_secs_f64()
    );
    assert!(
        self_kills > 0 && tombstones > 0,
        "the run must include crash reclaims"
    );
}
