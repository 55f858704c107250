//! Processes and process groups: signals, pidfds, `waitid` without reaping, the parent-death
//! signal of a child, the user ids, the host name, and the clocks that tests and benchmarks
//! compare across processes and threads.
//!
//! Why unsafe: these are C functions (FFI). None has a memory-safety precondition except the
//! buffers it writes, which the wrappers own; the pre-exec hook runs between `fork` and `exec`
//! and calls only async-signal-safe functions. Ids of 0 or less are refused: `kill(0, …)`,
//! `kill(-1, …)` and `killpg(0, …)` would reach this process' own group or every process.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// The signal number of SIGKILL.
pub const SIGKILL: i32 = libc::SIGKILL;

/// A positive pid as `pid_t`; `None` for 0 and ids out of range.
fn positive(pid: u32) -> Option<libc::pid_t> {
    libc::pid_t::try_from(pid).ok().filter(|p| *p > 0)
}

/// Send `signal` to process `pid` (`kill(2)`); true when it was sent. Refuses pid 0.
pub fn kill(pid: u32, signal: i32) -> bool {
    let Some(pid) = positive(pid) else {
        return false;
    };
    // SAFETY: kill(2) has no memory-safety preconditions; a stale pid yields ESRCH.
    unsafe { libc::kill(pid, signal) == 0 }
}

/// Send `signal` to every process of group `pgid` (`killpg(2)`); true when it was sent.
/// Refuses group 0 (this process' own group).
pub fn kill_group(pgid: u32, signal: i32) -> bool {
    let Some(pgid) = positive(pgid) else {
        return false;
    };
    // SAFETY: killpg(2) has no memory-safety preconditions; a stale id yields ESRCH.
    unsafe { libc::killpg(pgid, signal) == 0 }
}

/// Whether child `pid` of this process has exited, without reaping it (`waitid` with
/// `WEXITED | WNOHANG | WNOWAIT`): it then stays a zombie, so its pid (and group id) cannot be
/// reused until it is waited for. An error when `pid` is not a child of this process.
pub fn has_exited(pid: u32) -> std::io::Result<bool> {
    if positive(pid).is_none() {
        return Err(std::io::Error::from_raw_os_error(libc::ECHILD));
    }
    // SAFETY: an all-zero siginfo_t is a valid value (a plain C struct); waitid writes into it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is a valid, writable siginfo_t; WNOWAIT leaves the child unreaped.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            libc::id_t::from(pid),
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: after a successful waitid the pid field is set (0 when nothing changed).
    Ok(unsafe { info.si_pid() } != 0)
}

/// A Linux pidfd of a process (closed on drop): a handle that keeps referring to that process
/// even after it exits and its pid is reused.
#[derive(Debug)]
pub struct PidFd(libc::c_int);

impl PidFd {
    /// Open a pidfd of process `pid` (`pidfd_open(2)`); `None` when it does not exist or the
    /// kernel has no pidfds.
    pub fn open(pid: u32) -> Option<PidFd> {
        let pid = positive(pid)?;
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        libc::c_int::try_from(fd)
            .ok()
            .filter(|&fd| fd >= 0)
            .map(PidFd)
    }

    /// Send SIGKILL to the process (`pidfd_send_signal(2)`); true when it was sent.
    pub fn kill(&self) -> bool {
        // SAFETY: pidfd_send_signal on a descriptor this value owns; a null siginfo is
        // allowed.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.0,
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        rc == 0
    }
}

impl Drop for PidFd {
    fn drop(&mut self) {
        // SAFETY: the descriptor is owned by this value and closed exactly once.
        unsafe {
            libc::close(self.0);
        }
    }
}

/// Make the child that `cmd` spawns get SIGKILL when the spawning thread dies (Linux
/// parent-death signal, armed between `fork` and `exec`); the child does not start if this
/// process (`parent`, its pid) died before the signal was armed.
pub fn kill_child_with_parent(cmd: &mut Command, parent: u32) {
    let hook = move || {
        // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a process attribute; async-signal-safe.
        if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // The parent may have died before the signal was armed: do not run orphaned.
        // SAFETY: getppid has no preconditions; async-signal-safe.
        if u32::try_from(unsafe { libc::getppid() }).ok() != Some(parent) {
            return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
        }
        Ok(())
    };
    // SAFETY: the closure runs between fork and exec and calls only async-signal-safe
    // functions (prctl, getppid); it allocates nothing.
    unsafe { cmd.pre_exec(hook) };
}

/// The real user id of this process (`getuid(2)`).
pub fn uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// The effective user id of this process (`geteuid(2)`).
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Nanoseconds of the system-wide monotonic clock (`CLOCK_MONOTONIC`): unlike
/// `std::time::Instant`, values from different processes are comparable.
pub fn monotonic_nanos() -> u128 {
    clock_nanos(libc::CLOCK_MONOTONIC)
}

/// CPU time the calling thread has used, in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`).
pub fn thread_cpu_nanos() -> u128 {
    clock_nanos(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// The reading of `clock` (one that always exists on Linux), in nanoseconds.
fn clock_nanos(clock: libc::clockid_t) -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the callers pass clocks Linux always has.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    u128::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000 + u128::try_from(ts.tv_nsec).unwrap_or(0)
}

/// This machine's host name (`gethostname(2)`; empty when it cannot be read).
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for `buf.len()` bytes; gethostname NUL-terminates on success
    // (the length is bounded below in case it truncates without a NUL).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let len = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait_until(mut f: impl FnMut() -> bool) {
        let t = Instant::now();
        while !f() {
            assert!(t.elapsed() < Duration::from_secs(10), "timed out");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "FFI")]
    fn waitid_sees_an_exit_without_reaping_and_kill_ends_a_process() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        assert!(!has_exited(child.id()).unwrap());
        assert!(kill(child.id(), SIGKILL));
        wait_until(|| has_exited(child.id()).unwrap());
        // Still a zombie: waiting again still sees it, and std can reap it.
        assert!(has_exited(child.id()).unwrap());
        assert!(child.wait().unwrap().code().is_none());
        assert!(has_exited(child.id()).is_err(), "reaped");
    }

    #[test]
    #[cfg_attr(miri, ignore = "FFI")]
    fn a_pidfd_kills_its_process_and_group_kill_reaches_the_group() {
        let mut a = Command::new("sleep").arg("30").spawn().unwrap();
        let fd = PidFd::open(a.id());
        if let Some(fd) = fd {
            assert!(fd.kill());
            assert!(a.wait().unwrap().code().is_none());
        } else {
            a.kill().unwrap();
            a.wait().unwrap();
        }
        let mut b = Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        assert!(kill_group(b.id(), SIGKILL));
        assert!(b.wait().unwrap().code().is_none());
    }

    #[test]
    #[cfg_attr(miri, ignore = "FFI")]
    fn ids_of_zero_are_refused() {
        assert!(!kill(0, 0));
        assert!(!kill_group(0, 0));
        assert!(PidFd::open(0).is_none());
        assert!(has_exited(0).is_err());
    }

    #[test]
    #[cfg_attr(miri, ignore = "FFI")]
    fn the_death_signal_hook_lets_the_child_run_while_the_parent_lives() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "exit 7"]);
        kill_child_with_parent(&mut cmd, std::process::id());
        assert_eq!(cmd.status().unwrap().code(), Some(7));
        // A wrong parent pid: the hook refuses to start the child.
        let mut cmd = Command::new("true");
        kill_child_with_parent(&mut cmd, u32::MAX);
        assert!(cmd.status().is_err());
    }

    #[test]
    #[cfg_attr(miri, ignore = "FFI")]
    fn uids_and_hostname_match_the_system_tools() {
        // `id -u` prints the effective uid; this process does not change uids, so the real
        // one is the same.
        let id = Command::new("id").arg("-u").output().unwrap();
        let id = String::from_utf8_lossy(&id.stdout).trim().to_string();
        assert_eq!(id, uid().to_string());
        assert_eq!(id, euid().to_string());
        let name = hostname();
        assert!(!name.is_empty());
        if let Ok(out) = Command::new("hostname").output() {
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), name);
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "FFI")]
    fn the_clocks_advance_as_time_and_work_do() {
        let a = monotonic_nanos();
        std::thread::sleep(Duration::from_millis(2));
        let b = monotonic_nanos();
        assert!(b >= a + 2_000_000, "{a} {b}");
        // `/proc/uptime` counts from boot, as CLOCK_MONOTONIC does (plus suspended time).
        let uptime = std::fs::read_to_string("/proc/uptime").unwrap();
        let up: f64 = uptime.split_whitespace().next().unwrap().parse().unwrap();
        assert!(b as f64 / 1e9 <= up + 1.0, "{b} {up}");
        // A busy thread's CPU time advances; a sleeping one's hardly does.
        let c0 = thread_cpu_nanos();
        let mut x = 1u64;
        while thread_cpu_nanos() < c0 + 3_000_000 {
            x = std::hint::black_box(x.wrapping_mul(3));
        }
        let c1 = thread_cpu_nanos();
        std::thread::sleep(Duration::from_millis(50));
        assert!(thread_cpu_nanos() - c1 < 40_000_000);
    }
}
