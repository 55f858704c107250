//! Running a child in its own process group with a deadline, so that nothing it starts
//! outlives it or the gate:
//!
//! * the child is the leader of a new process group and gets SIGKILL when the gate dies
//!   (Linux parent-death signal, set between fork and exec);
//! * on every way out (exit, timeout, stop, an error, a panic unwinding through the run) the
//!   whole group is killed before the leader is reaped, so its id cannot have been reused,
//!   and the run waits until the group is empty;
//! * a [`GroupRecorder`] records the group next to the lease while it runs, so that if the
//!   gate itself is killed, the next run finds its leftover processes and ends them.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use portcullis_unsafe::process;

use crate::lease::{self, GROUP_MARKER_ENV, LeaseLocation, ProcessGroup};

/// How long a killed process group may take to disappear.
const GROUP_EXIT_WAIT: Duration = Duration::from_secs(5);

/// How a bounded run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunEnd {
    /// Exited; `None` when killed by a signal.
    Exited(Option<i32>),
    /// The deadline passed; the process group was killed.
    TimedOut,
    /// The tick callback asked to stop; the process group was killed.
    Stopped,
}

/// Result of [`run_bounded`].
#[derive(Debug)]
pub(crate) struct RunResult {
    pub end: RunEnd,
    /// Captured standard output.
    pub stdout: Vec<u8>,
    /// Captured standard error (for a test command: stdout and stderr interleaved, and
    /// stdout is empty).
    pub output: Vec<u8>,
    pub elapsed: Duration,
}

/// Why a bounded child could not be run to its end.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProcError {
    /// The capture files could not be created.
    #[error("temp file: {0}")]
    TempFile(#[source] std::io::Error),
    /// The process group could not be recorded next to the lease.
    #[error("cannot record the process group of {what}: {source}")]
    Record {
        /// What runs (`test command`, `git rebase`).
        what: String,
        /// The lease error.
        #[source]
        source: lease::LeaseError,
    },
    /// The command could not be started.
    #[error("cannot start: {0}")]
    Start(#[source] std::io::Error),
    /// The child's pid does not fit a `pid_t`.
    #[error("child pid {0} out of range")]
    PidRange(u32),
    /// A pid that `waitid` cannot take.
    #[error("invalid child pid {0}")]
    InvalidPid(libc::pid_t),
    /// Waiting for the child failed.
    #[error("waiting for child: {0}")]
    Wait(#[source] std::io::Error),
    /// Members of the group outlived SIGKILL.
    #[error("{others} process(es) of group {pgid} survived SIGKILL for {secs}s")]
    Survived {
        /// How many.
        others: usize,
        /// The group.
        pgid: libc::pid_t,
        /// How long they were given.
        secs: u64,
    },
    /// Reaping the child failed.
    #[error("reaping child: {0}")]
    Reap(#[source] std::io::Error),
}

/// Records a running process group next to the lease and clears it once the group is gone.
#[derive(Debug, Clone)]
pub(crate) struct GroupRecorder {
    pub loc: LeaseLocation,
    pub holder: String,
    pub nonce: String,
}

impl GroupRecorder {
    fn started(&self, group: &ProcessGroup, what: &str) -> Result<(), ProcError> {
        lease::record_children(&self.loc, &self.holder, &self.nonce, group, what).map_err(
            |source| ProcError::Record {
                what: what.to_string(),
                source,
            },
        )
    }

    fn ended(&self, group: &ProcessGroup) {
        // Best effort: a record left behind names a group that is gone, which the next
        // run recognises (no members) and clears.
        let _ = lease::clear_children(&self.loc, &self.nonce, group);
    }
}

/// How to run one child.
pub(crate) struct Bounds<'a> {
    pub timeout: Duration,
    /// Called about every 20 ms; returning `false` stops the run.
    pub tick: &'a mut dyn FnMut() -> bool,
    /// Send stdout and stderr to one capture (for test commands).
    pub merged: bool,
    /// Bytes kept of each capture (the tail).
    pub max_capture: u64,
    /// Record the group next to the lease while it runs, under this name.
    pub record: Option<(&'a GroupRecorder, &'a str)>,
}

fn signal_group(pgid: libc::pid_t, sig: libc::c_int) -> bool {
    u32::try_from(pgid).is_ok_and(|g| process::kill_group(g, sig))
}

/// True once the child has exited (it is then a zombie, not reaped: its pid, and so the
/// group id, cannot be reused until [`Running::finish`] reaps it).
fn has_exited(pid: libc::pid_t) -> Result<bool, ProcError> {
    let Ok(id) = u32::try_from(pid) else {
        return Err(ProcError::InvalidPid(pid));
    };
    if id == 0 {
        return Err(ProcError::InvalidPid(pid));
    }
    process::has_exited(id).map_err(ProcError::Wait)
}

/// A spawned child and its group; killed and reaped on drop if not finished.
struct Running<'a> {
    child: Child,
    pgid: libc::pid_t,
    group: Option<ProcessGroup>,
    record: Option<(&'a GroupRecorder, &'a str)>,
    done: bool,
}

impl Running<'_> {
    /// Kill what is left of the group, reap the leader, wait until the group is empty and
    /// clear its record. `Err` if members survive SIGKILL (the record then stays, so the
    /// next run still sees them).
    fn finish(&mut self) -> Result<Option<i32>, ProcError> {
        self.done = true;
        signal_group(self.pgid, libc::SIGKILL);
        // The leader stays unreaped (a zombie) until the group is empty, so the group id
        // cannot be reused meanwhile: every process still in the group is ours, and
        // stragglers forked meanwhile get SIGKILL too. Zombies do not count (init reaps
        // the members; whether it does so promptly is not ours to wait for).
        let deadline = Instant::now() + GROUP_EXIT_WAIT;
        let mut pause = Duration::from_micros(200);
        let gid = u32::try_from(self.pgid).unwrap_or_default();
        loop {
            let leader_done = has_exited(self.pgid).unwrap_or(true);
            let others = lease::live_in_group(gid).map_or(0, |l| l.len());
            if leader_done && others == 0 {
                break;
            }
            if Instant::now() >= deadline {
                let _ = self.child.wait();
                return Err(ProcError::Survived {
                    others,
                    pgid: self.pgid,
                    secs: GROUP_EXIT_WAIT.as_secs(),
                });
            }
            signal_group(self.pgid, libc::SIGKILL);
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
        let status = self.child.wait().map_err(ProcError::Reap)?;
        if let (Some((rec, _)), Some(group)) = (self.record, &self.group) {
            rec.ended(group);
        }
        Ok(status.code())
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.finish();
        }
    }
}

/// Read at most the last `max` bytes of a file.
pub(crate) fn read_tail(f: &mut File, max: u64) -> Vec<u8> {
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(max);
    let mut buf = Vec::new();
    if f.seek(SeekFrom::Start(start)).is_ok() {
        let _ = f.take(max).read_to_end(&mut buf);
    }
    buf
}

/// Make `cmd` the leader of a new process group that dies with the calling thread.
fn contain(cmd: &mut Command, marker: &str) {
    let parent = std::process::id();
    cmd.process_group(0).env(GROUP_MARKER_ENV, marker);
    process::kill_child_with_parent(cmd, parent);
}

/// Spawn `cmd` (stdin null) as a contained process group (see the module docs), capture its
/// output into anonymous temp files, and wait at most `bounds.timeout`.
pub(crate) fn run_with(mut cmd: Command, bounds: Bounds<'_>) -> Result<RunResult, ProcError> {
    let Bounds {
        timeout,
        tick,
        merged,
        max_capture,
        record,
    } = bounds;
    let mut out_file = tempfile::tempfile().map_err(ProcError::TempFile)?;
    let mut err_file = if merged {
        out_file.try_clone().map_err(ProcError::TempFile)?
    } else {
        tempfile::tempfile().map_err(ProcError::TempFile)?
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(
            out_file.try_clone().map_err(ProcError::TempFile)?,
        ))
        .stderr(Stdio::from(
            err_file.try_clone().map_err(ProcError::TempFile)?,
        ));
    let marker = ProcessGroup::new_marker();
    contain(&mut cmd, &marker);
    // Recorded before anything runs: if the gate dies at any later point, the marker
    // already names whatever the command starts.
    let planned = ProcessGroup::new(&marker);
    if let Some((rec, what)) = record {
        rec.started(&planned, what)?;
    }
    let start = Instant::now();
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            if let Some((rec, _)) = record {
                rec.ended(&planned);
            }
            return Err(ProcError::Start(e));
        }
    };
    let Ok(pgid) = libc::pid_t::try_from(child.id()) else {
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
        return Err(ProcError::PidRange(child.id()));
    };
    let group = planned.with_leader(child.id());
    if let Some((rec, what)) = record {
        // Adds the group id; the marker alone already identifies the processes.
        let _ = rec.started(&group, what);
    }
    let mut running = Running {
        group: Some(group),
        child,
        pgid,
        record,
        done: false,
    };
    // Poll quickly at first (most git commands finish in milliseconds), then every 20 ms.
    let mut pause = Duration::from_millis(1);
    let end = loop {
        match has_exited(pgid) {
            Ok(true) => break None,
            Ok(false) => {}
            Err(e) => {
                let _ = running.finish();
                return Err(e);
            }
        }
        if start.elapsed() >= timeout {
            break Some(RunEnd::TimedOut);
        }
        if !tick() {
            break Some(RunEnd::Stopped);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    };
    // Whatever happened, nothing of the group outlives this point.
    let code = running.finish()?;
    let end = end.unwrap_or(RunEnd::Exited(code));
    let elapsed = start.elapsed();
    let (stdout, output) = if merged {
        (Vec::new(), read_tail(&mut out_file, max_capture))
    } else {
        (
            read_tail(&mut out_file, max_capture),
            read_tail(&mut err_file, max_capture),
        )
    };
    Ok(RunResult {
        end,
        stdout,
        output,
        elapsed,
    })
}

/// [`run_with`] for git commands: separate stdout/stderr, generous capture.
pub(crate) fn run_bounded(
    cmd: Command,
    timeout: Duration,
    tick: &mut dyn FnMut() -> bool,
    record: Option<(&GroupRecorder, &str)>,
) -> Result<RunResult, ProcError> {
    run_with(
        cmd,
        Bounds {
            timeout,
            tick,
            merged: false,
            max_capture: 64 << 20,
            record,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                !s.rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
            })
            .unwrap_or(false)
    }

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.arg("-c").arg(script);
        c
    }

    fn read_pid(path: &std::path::Path) -> i32 {
        std::fs::read_to_string(path)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    #[test]
    fn background_children_die_when_the_command_exits() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("bg");
        let script = format!("sleep 300 & echo $! > {}", pidfile.display());
        let r = run_with(
            sh(&script),
            Bounds {
                timeout: Duration::from_secs(30),
                tick: &mut || true,
                merged: true,
                max_capture: 1024,
                record: None,
            },
        )
        .unwrap();
        assert_eq!(r.end, RunEnd::Exited(Some(0)));
        assert!(!alive(read_pid(&pidfile)), "background child survived");
    }

    #[test]
    fn timeout_kills_the_group_promptly() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("bg");
        let script = format!("sleep 300 & echo $! > {}; wait", pidfile.display());
        let t = Instant::now();
        let r = run_with(
            sh(&script),
            Bounds {
                timeout: Duration::from_millis(300),
                tick: &mut || true,
                merged: true,
                max_capture: 1024,
                record: None,
            },
        )
        .unwrap();
        assert_eq!(r.end, RunEnd::TimedOut);
        assert!(t.elapsed() < Duration::from_secs(10));
        assert!(!alive(read_pid(&pidfile)));
    }

    #[test]
    fn children_carry_the_marker_and_lead_their_own_group() {
        let r = run_with(
            sh(&format!(
                "echo ${GROUP_MARKER_ENV}; cut -d' ' -f5 /proc/$$/stat; echo $$"
            )),
            Bounds {
                timeout: Duration::from_secs(30),
                tick: &mut || true,
                merged: false,
                max_capture: 1024,
                record: None,
            },
        )
        .unwrap();
        let out = String::from_utf8_lossy(&r.stdout).into_owned();
        let lines: Vec<&str> = out.lines().map(str::trim).collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(!lines[0].is_empty(), "marker missing: {out}");
        assert_eq!(lines[1], lines[2], "not a group leader: {out}");
    }
}
