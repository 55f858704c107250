//! The append-only hold log of the lease stress tests (`lease_stress`, `lease_pg_stress`):
//! worker processes append one record per event (`E <token> <slot> <pid> <t_ns>` on entry,
//! `X ...` on exit, ...) with times from a clock all processes share.

#![allow(dead_code)]

use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Nanoseconds of `CLOCK_MONOTONIC`: system-wide, so values from different processes are
/// comparable.
pub fn mono_ns() -> u128 {
    portcullis_unsafe::process::monotonic_nanos()
}

/// Append one record to the log opened with `O_APPEND`.
pub fn append(log: &mut File, line: String) {
    // One write(2) on an O_APPEND file: records never interleave.
    log.write_all(line.as_bytes()).unwrap();
}

/// How many holds (`E` records) each of `slots` worker slots logged.
pub fn entries_per_slot(log: &Path, slots: usize) -> Vec<usize> {
    let mut n = vec![0; slots];
    for line in std::fs::read_to_string(log).unwrap().lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if f[0] == "E" {
            n[f[2].parse::<usize>().unwrap()] += 1;
        }
    }
    n
}

/// The pid of a worker whose log shows it inside its hold (an `E` record and no `X` yet).
pub fn a_holder(log: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(log).ok()?;
    let mut inside: Vec<u32> = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        match (f[0], f.get(3).and_then(|p| p.parse::<u32>().ok())) {
            ("E", Some(pid)) => inside.push(pid),
            ("X", Some(pid)) => inside.retain(|p| *p != pid),
            _ => {}
        }
    }
    inside.last().copied()
}
