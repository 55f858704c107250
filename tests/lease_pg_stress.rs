//! Stress test of the PostgreSQL lease: 3 simulated hosts (distinct `PORTCULLIS_HOST_ID`s)
//! × 8 worker processes, acquiring one key through one database, with random SIGKILLs
//! inside the critical section, `pg_terminate_backend` of the workers' connections, and a
//! server restart in the middle of the run.
//!
//! Every hold is logged to an append-only file: `E <token> <slot> <pid> <t_ns>` on entry,
//! `L <token> <slot> <pid> <t_ns>` when the worker "lands" inside [`lease::while_held`],
//! `X <token> <slot> <pid> <t_ns> <ok|killed|fenced>` on exit, `F <slot> <pid> <t_ns>` for an
//! operation that failed (a gate would FAIL); the parent logs `K <pid> <t_ns>` before each
//! SIGKILL it sends. Afterwards: zero overlapping holds, tokens strictly increasing, landings
//! only inside their own hold, every killed holder's lease reclaimed within its TTL.
//!
//! Size: `PG_STRESS_CYCLES` holds per worker (default 8; the full run uses 100).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::stress_log::{a_holder, append, entries_per_slot, mono_ns};
use portcullis::lease::{self, AcquireOptions, Acquisition, LeaseBackend, ProcessBinding};

use crate::lease_pg_server::PgServer;

const HOSTS: usize = 3;
const WORKERS_PER_HOST: usize = 8;
const SLOTS: usize = HOSTS * WORKERS_PER_HOST;
const KEY: &str = "pg-stress.example/repo";
const TTL: Duration = Duration::from_secs(2);
/// Reclaim must happen within the TTL; this covers the busy-poll interval, one retry after a
/// terminated session, and one connection set-up.
const RECLAIM_SLACK: Duration = Duration::from_millis(500);

fn cycles() -> usize {
    std::env::var("PG_STRESS_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
}

#[test]
fn pg_stress_worker_entry() {
    if std::env::var_os("PG_STRESS_WORKER").is_none() {
        return;
    }
    let url = std::env::var("PG_STRESS_URL").unwrap();
    let slot: usize = std::env::var("PG_STRESS_SLOT").unwrap().parse().unwrap();
    let todo: usize = std::env::var("PG_STRESS_TODO").unwrap().parse().unwrap();
    let mut log = OpenOptions::new()
        .append(true)
        .open(std::env::var("PG_STRESS_LOG").unwrap())
        .unwrap();
    let loc = LeaseBackend::from_url(&url).unwrap().location(KEY).unwrap();
    let pid = std::process::id();
    let holder = format!("slot{slot}-{pid}");
    let mut opts = AcquireOptions::new(holder.clone(), TTL);
    if slot.is_multiple_of(2) {
        // Like the gate: bound to this process (reclaimed at once by workers of the same
        // host once it dies; by the TTL on the other hosts).
        opts.process = ProcessBinding::current();
    }
    let mut done = 0;
    while done < todo {
        let rec = match lease::acquire(&loc, &opts) {
            Err(_) => {
                append(&mut log, format!("F {slot} {pid} {}\n", mono_ns()));
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Ok(Acquisition::Busy(_)) => {
                std::thread::sleep(Duration::from_millis(50 + fastrand::u64(0..100)));
                continue;
            }
            Ok(Acquisition::Acquired(rec)) => rec,
        };
        let token = rec.fencing_token;
        append(&mut log, format!("E {token} {slot} {pid} {}\n", mono_ns()));
        done += 1;
        std::thread::sleep(Duration::from_micros(fastrand::u64(0..3000)));
        if fastrand::u32(0..100) < 2 {
            append(
                &mut log,
                format!("X {token} {slot} {pid} {} killed\n", mono_ns()),
            );
            // The worker kills itself while holding the lease.
            portcullis_unsafe::process::kill(std::process::id(), libc::SIGKILL);
        }
        let landed = lease::while_held(&loc, &holder, &rec.nonce, token, || {
            append(&mut log, format!("L {token} {slot} {pid} {}\n", mono_ns()));
            // The landing itself (a push) takes a moment, with the row locked.
            std::thread::sleep(Duration::from_micros(500 + fastrand::u64(0..2000)));
        });
        let end = if landed.is_ok() { "ok" } else { "fenced" };
        append(
            &mut log,
            format!("X {token} {slot} {pid} {} {end}\n", mono_ns()),
        );
        for _ in 0..5 {
            match lease::release(&loc, &holder, Some(&rec.nonce)) {
                Ok(_) => break,
                Err(_) => {
                    append(&mut log, format!("F {slot} {pid} {}\n", mono_ns()));
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }
}

fn spawn_worker(url: &str, log: &Path, slot: usize, todo: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "lease_pg_stress::pg_stress_worker_entry",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PG_STRESS_WORKER", "1")
        .env("PG_STRESS_URL", url)
        .env("PG_STRESS_LOG", log)
        .env("PG_STRESS_SLOT", slot.to_string())
        .env("PG_STRESS_TODO", todo.to_string())
        .env("PORTCULLIS_HOST_ID", format!("sim-host-{}", slot % HOSTS))
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
    killed: bool,
    landed: Option<u128>,
}

/// Terminate one session of a worker, preferring one inside a transaction (a holder in the
/// middle of acquiring, landing or releasing). Returns how many were terminated (0 or 1).
fn terminate_a_lease_session(url: &str) -> u64 {
    let Ok(mut c) = postgres::Client::connect(url, postgres::NoTls) else {
        return 0;
    };
    c.query_one(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM ( \
             SELECT pid FROM pg_stat_activity \
             WHERE application_name = 'portcullis-lease' AND pid <> pg_backend_pid() \
             ORDER BY (state LIKE 'idle in transaction%') DESC, random() LIMIT 1) s",
        &[],
    )
    .map(|r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0))
    .unwrap_or(0)
}

#[test]
fn three_hosts_of_eight_workers_with_sigkills_terminations_and_a_restart_never_hold_together() {
    if std::env::var_os("PG_STRESS_WORKER").is_some() {
        return;
    }
    let cycles = cycles();
    // Generous: a loaded machine slows every connection.
    let watchdog = Duration::from_secs(300 + 2 * (cycles * SLOTS) as u64);
    let server = PgServer::start(true);
    let url = server.url_without_password();
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("holds.log");
    File::create(&log).unwrap();
    let mut logf = OpenOptions::new().append(true).open(&log).unwrap();
    let total = cycles * SLOTS;
    let parent_kill_budget = (total / 40).max(10);
    let t0 = Instant::now();
    let mut workers: Vec<Option<Child>> = (0..SLOTS)
        .map(|s| Some(spawn_worker(&url, &log, s, cycles)))
        .collect();
    let (mut parent_kills, mut crashes, mut terminated, mut restarted) = (0, 0, 0u64, false);
    let mut next_kill = Instant::now() + Duration::from_millis(200);
    let mut next_terminate = Instant::now() + Duration::from_millis(300);
    loop {
        assert!(t0.elapsed() < watchdog, "stress test hung");
        let per_slot = entries_per_slot(&log, SLOTS);
        let mut running = 0;
        for (slot, worker) in workers.iter_mut().enumerate() {
            let Some(child) = worker.as_mut() else {
                continue;
            };
            match child.try_wait().unwrap() {
                None => running += 1,
                Some(status) => {
                    *worker = None;
                    if !status.success() {
                        crashes += 1;
                        assert!(
                            status.code().is_none(),
                            "worker of slot {slot} failed: {status:?}"
                        );
                    }
                    // Counted after the exit: the worker's last record is written by now.
                    let done = entries_per_slot(&log, SLOTS)[slot];
                    if done < cycles {
                        *worker = Some(spawn_worker(&url, &log, slot, cycles - done));
                        running += 1;
                    }
                }
            }
        }
        if running == 0 {
            break;
        }
        let done: usize = per_slot.iter().sum();
        if !restarted && done * 5 >= total * 2 {
            // A fast restart ends every session; the rows (and tokens) survive.
            let start = mono_ns();
            server.restart();
            append(&mut logf, format!("R {start} {}\n", mono_ns()));
            restarted = true;
        }
        if Instant::now() >= next_terminate {
            next_terminate = Instant::now() + Duration::from_millis(500 + fastrand::u64(0..1000));
            terminated += terminate_a_lease_session(&url);
        }
        if parent_kills < parent_kill_budget && Instant::now() >= next_kill {
            next_kill = Instant::now() + Duration::from_millis(50 + fastrand::u64(0..250));
            // Every other kill aims at a worker the log shows inside its hold, so that every
            // run kills holders in the critical section however the machine's load shifts
            // the timing; the others land anywhere.
            let holder = fastrand::bool().then(|| a_holder(&log)).flatten();
            let slot = workers
                .iter()
                .position(|w| w.as_ref().is_some_and(|c| Some(c.id()) == holder))
                .unwrap_or_else(|| fastrand::usize(0..SLOTS));
            if let Some(child) = workers[slot].as_mut() {
                append(&mut logf, format!("K {} {}\n", child.id(), mono_ns()));
                let _ = child.kill();
                parent_kills += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let elapsed = t0.elapsed();

    // Check the log.
    let text = std::fs::read_to_string(&log).unwrap();
    let mut holds: HashMap<u64, Hold> = HashMap::new();
    let mut killed_at: HashMap<u32, u128> = HashMap::new();
    let (mut failed_ops, mut fenced) = (0, 0);
    let mut restart: (u128, u128) = (0, 0);
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
                    killed: false,
                    landed: None,
                };
                assert!(
                    holds.insert(token, h).is_none(),
                    "token {token} handed out twice"
                );
            }
            "L" => {
                let token: u64 = f[1].parse().unwrap();
                let h = holds.get_mut(&token).expect("landing without entry");
                assert_eq!(
                    h.pid,
                    f[3].parse::<u32>().unwrap(),
                    "landed on another's token"
                );
                h.landed = Some(f[4].parse().unwrap());
            }
            "X" => {
                let token: u64 = f[1].parse().unwrap();
                let h = holds.get_mut(&token).expect("exit without entry");
                assert_eq!(h.pid, f[3].parse::<u32>().unwrap());
                h.exit = Some(f[4].parse().unwrap());
                match f[5] {
                    "killed" => h.killed = true,
                    "fenced" => fenced += 1,
                    _ => {}
                }
            }
            "F" => failed_ops += 1,
            "R" => restart = (f[1].parse().unwrap(), f[2].parse().unwrap()),
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
            h.killed = true;
        }
    }
    holds.sort_by_key(|h| h.enter);
    let mut overlaps = 0;
    let mut latencies: Vec<Duration> = Vec::new();
    let mut max_overshoot: i128 = i128::MIN;
    for pair in holds.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            b.token > a.token,
            "tokens not increasing in time order: {a:?} then {b:?}"
        );
        if a.exit.unwrap() > b.enter {
            overlaps += 1;
        }
        if let Some(l) = a.landed {
            assert!(
                a.enter <= l && l <= a.exit.unwrap(),
                "landing outside its hold: {a:?}"
            );
        }
        // Reclaim latency: from the kill to the next acquisition, when that is the very next
        // token (a worker killed between its acquisition and its log record holds a lease
        // the log does not show) and the server was not down in between.
        let down = restart.0 < b.enter && restart.1 > a.exit.unwrap();
        if a.killed && b.token == a.token + 1 && !down {
            // How long after the killed lease's expiry (acquired before its entry record,
            // so it expired before enter + TTL) the next holder had it.
            let overshoot = (b.enter as i128) - (a.enter as i128) - TTL.as_nanos() as i128;
            max_overshoot = max_overshoot.max(overshoot);
            latencies.push(Duration::from_nanos(
                u64::try_from(b.enter - a.exit.unwrap()).unwrap_or(u64::MAX),
            ));
        }
    }
    assert_eq!(overlaps, 0, "overlapping holds");
    let per_slot = entries_per_slot(&log, SLOTS);
    latencies.sort();
    let median = latencies
        .get(latencies.len() / 2)
        .copied()
        .unwrap_or_default();
    let max = latencies.last().copied().unwrap_or_default();
    let kills = latencies.len();
    let summary = format!(
        "pg lease stress: {HOSTS} simulated hosts x {WORKERS_PER_HOST} workers x {cycles} holds = {} \
         acquisitions, {kills} holders SIGKILLed inside the critical section ({parent_kills} \
         parent SIGKILLs, {crashes} worker deaths), 0 overlaps, tokens strictly increasing, \
         {terminated} sessions terminated, 1 server restart, {failed_ops} failed operations, \
         {fenced} fenced landings refused, reclaim latency after a kill median {} ms max {} ms \
         (TTL {} ms; at most {} ms after the killed lease's expiry), {:.1} s",
        holds.len(),
        median.as_millis(),
        max.as_millis(),
        TTL.as_millis(),
        max_overshoot.max(0) / 1_000_000,
        elapsed.as_secs_f64()
    );
    eprintln!("{summary}");
    if let Some(p) = std::env::var_os("PG_STRESS_REPORT") {
        std::fs::write(p, format!("{summary}\n")).unwrap();
    }
    assert_eq!(per_slot, vec![cycles; SLOTS]);
    assert!(restarted, "the run must include a server restart");
    assert!(kills > 0, "the run must include killed holders");
    assert!(
        max <= TTL + RECLAIM_SLACK,
        "a killed holder's lease was reclaimed only after {max:?} (TTL {TTL:?})"
    );
}
