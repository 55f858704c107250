//! Running a child in its own process group with a deadline: on timeout the whole group is
//! killed (SIGKILL), so grandchildren left behind by a test command die too.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

fn kill_group(pgid: u32) {
    if let Ok(pgid) = libc::pid_t::try_from(pgid) {
        // SAFETY: plain syscall; a stale group id yields ESRCH, which we ignore.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
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

/// Spawn `cmd` (stdin null) in a new process group, capture its output into anonymous temp
/// files, and wait at most `timeout`. `tick` is called about every 50 ms; returning `false`
/// stops the run. `merged` sends stdout and stderr to one file (for test commands).
pub(crate) fn run_with(
    mut cmd: Command,
    timeout: Duration,
    tick: &mut dyn FnMut() -> bool,
    merged: bool,
    max_capture: u64,
) -> Result<RunResult, String> {
    let mut out_file = tempfile::tempfile().map_err(|e| format!("temp file: {e}"))?;
    let mut err_file = if merged {
        out_file
            .try_clone()
            .map_err(|e| format!("temp file: {e}"))?
    } else {
        tempfile::tempfile().map_err(|e| format!("temp file: {e}"))?
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(
            out_file
                .try_clone()
                .map_err(|e| format!("temp file: {e}"))?,
        ))
        .stderr(Stdio::from(
            err_file
                .try_clone()
                .map_err(|e| format!("temp file: {e}"))?,
        ))
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("cannot start: {e}"))?;
    let pgid = child.id();
    // Poll quickly at first (most git commands finish in milliseconds), then every 20 ms.
    let mut pause = Duration::from_millis(1);
    let end = loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                if merged {
                    // Background children of a test command must not outlive it.
                    kill_group(pgid);
                }
                break RunEnd::Exited(status.code());
            }
            Ok(None) => {}
            Err(e) => {
                kill_group(pgid);
                let _ = child.wait();
                return Err(format!("waiting for child: {e}"));
            }
        }
        if start.elapsed() >= timeout {
            kill_group(pgid);
            let _ = child.wait();
            break RunEnd::TimedOut;
        }
        if !tick() {
            kill_group(pgid);
            let _ = child.wait();
            break RunEnd::Stopped;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    };
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
) -> Result<RunResult, String> {
    run_with(cmd, timeout, tick, false, 64 << 20)
}
