//! The process groups a lease holder starts (the merge gate's test command and git commands),
//! so that a later run can tell whether they still live and end them.
//!
//! A process is a member of a recorded group when it carries the group's random marker in its
//! environment ([`GROUP_MARKER_ENV`], set on the leader and inherited by everything it
//! starts), or when it is in the process group (same id) while the recorded leader (same pid
//! and start time) still exists, which proves the group id was not reused. Zombies are not
//! members. The marker is known before the leader starts, so the group can be recorded
//! before any of its processes runs; the id and the leader's start time are added once the
//! leader exists. Processes that both cleared their environment and left the group
//! (`setsid`), or outlived the leader after clearing it, are invisible here: they are never
//! signalled.

use std::time::{Duration, Instant};

use portcullis_unsafe::process::{self, PidFd};
use serde::{Deserialize, Serialize};

use super::process::{boot_id, hostname, pid_namespace, read_stat};

/// Environment variable that carries a process group's marker into the processes it starts.
pub const GROUP_MARKER_ENV: &str = "PORTCULLIS_PROCESS_GROUP";

/// One process group started by a lease holder, identified beyond its reusable number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessGroup {
    /// The process group id (the pid of its leader), once the leader exists.
    #[serde(default)]
    pub pgid: Option<u32>,
    /// Start time of the leader in clock ticks since boot (`/proc/<pid>/stat`, field 22).
    #[serde(default)]
    pub leader_start_time: u64,
    /// The kernel boot id when the group was started (empty when unknown).
    #[serde(default)]
    pub boot_id: String,
    /// The pid namespace of the leader (empty when unknown).
    #[serde(default)]
    pub pid_ns: String,
    /// Host name of the machine the group runs on.
    pub host: String,
    /// The value of [`GROUP_MARKER_ENV`] in the leader's environment.
    pub marker: String,
}

/// Which processes of a [`ProcessGroup`] still live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Members {
    /// The group's live members (empty: the group is gone).
    Known(Vec<u32>),
    /// Cannot tell from here (another host or pid namespace, no `/proc`).
    Unknown,
}

impl ProcessGroup {
    /// A fresh random marker for [`GROUP_MARKER_ENV`].
    pub fn new_marker() -> String {
        format!(
            "{:x}-{:016x}{:016x}",
            std::process::id(),
            fastrand::u64(..),
            fastrand::u64(..)
        )
    }

    /// A group about to be started by this process with `marker` in [`GROUP_MARKER_ENV`]
    /// (no leader yet: see [`ProcessGroup::with_leader`]).
    pub fn new(marker: &str) -> ProcessGroup {
        ProcessGroup {
            pgid: None,
            leader_start_time: 0,
            boot_id: boot_id().unwrap_or_default(),
            pid_ns: pid_namespace("/proc/self/ns/pid").unwrap_or_default(),
            host: hostname(),
            marker: marker.to_string(),
        }
    }

    /// The group once its leader `pid` (its own group leader) runs; unchanged if the process
    /// cannot be read (then only the marker identifies members).
    pub fn with_leader(mut self, pid: u32) -> ProcessGroup {
        if let Ok(Some(stat)) = read_stat(pid) {
            self.pgid = Some(pid);
            self.leader_start_time = stat.start_time;
        }
        self
    }

    /// The group led by the running process `pid`, started with `marker` in
    /// [`GROUP_MARKER_ENV`]; `None` if the process does not exist or `/proc` is unavailable.
    pub fn of_leader(pid: u32, marker: &str) -> Option<ProcessGroup> {
        let g = ProcessGroup::new(marker).with_leader(pid);
        g.pgid.is_some().then_some(g)
    }

    /// The group's live members (see the module documentation for what counts).
    pub fn members(&self) -> Members {
        if self.host != hostname() {
            return Members::Unknown;
        }
        if let Some(mine) = boot_id()
            && !self.boot_id.is_empty()
            && mine != self.boot_id
        {
            return Members::Known(Vec::new()); // rebooted since: every member is gone
        }
        let my_ns = pid_namespace("/proc/self/ns/pid").unwrap_or_default();
        if !self.pid_ns.is_empty() && !my_ns.is_empty() && self.pid_ns != my_ns {
            return Members::Unknown;
        }
        if !std::path::Path::new("/proc/self/stat").exists() {
            return Members::Unknown;
        }
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Members::Unknown;
        };
        let proven = self.proven_pgid();
        let mut live = Vec::new();
        for entry in dir.filter_map(Result::ok) {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if self.is_member(pid, proven) {
                live.push(pid);
            }
        }
        live.sort_unstable();
        Members::Known(live)
    }

    /// The group id, if the recorded leader (same pid, same start time, possibly a zombie)
    /// still exists: then the id cannot have been reused.
    fn proven_pgid(&self) -> Option<u32> {
        let pgid = self.pgid?;
        match read_stat(pgid) {
            Ok(Some(st)) if st.start_time == self.leader_start_time && st.pgrp == pgid => {
                Some(pgid)
            }
            _ => None,
        }
    }

    /// True if `pid` is a live member of this group right now.
    fn is_member(&self, pid: u32, proven: Option<u32>) -> bool {
        let Ok(Some(st)) = read_stat(pid) else {
            return false;
        };
        if st.state == 'Z' || st.state == 'X' {
            return false;
        }
        proven.is_some_and(|g| st.pgrp == g) || self.carries_marker(pid)
    }

    fn carries_marker(&self, pid: u32) -> bool {
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            return false;
        };
        let want = format!("{GROUP_MARKER_ENV}={}", self.marker);
        env.split(|&b| b == 0).any(|kv| kv == want.as_bytes())
    }

    /// True while the group has a live member on this host (`false` when unknown).
    pub fn is_alive(&self) -> bool {
        matches!(self.members(), Members::Known(m) if !m.is_empty())
    }

    /// Kill every member (SIGKILL) and wait, at most `wait`, until none is left. Each member
    /// is re-identified after it is pinned with a pidfd, so a pid reused meanwhile is never
    /// signalled. Returns how many processes were signalled, or the survivors.
    pub fn end(&self, wait: Duration) -> Result<usize, GroupEndError> {
        let deadline = Instant::now() + wait;
        let mut signalled = 0usize;
        let mut pause = Duration::from_millis(1);
        loop {
            let live = match self.members() {
                Members::Known(live) => live,
                Members::Unknown => return Err(GroupEndError::Unknown),
            };
            if live.is_empty() {
                return Ok(signalled);
            }
            if Instant::now() >= deadline {
                return Err(GroupEndError::Survived(live));
            }
            for pid in live {
                if self.kill_member(pid) {
                    signalled += 1;
                }
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// SIGKILL `pid` if it is (still) a member; true if a signal was sent.
    fn kill_member(&self, pid: u32) -> bool {
        match PidFd::open(pid) {
            Some(fd) => {
                // The pidfd pins this process: if it is still a member now, the signal
                // reaches it and nothing else, even if it exits and its pid is reused.
                self.is_member(pid, self.proven_pgid()) && fd.kill()
            }
            None => {
                // No pidfd support: re-check right before kill(2); the window is a few
                // microseconds and the pid would have to be reused within it.
                if !self.is_member(pid, self.proven_pgid()) {
                    return false;
                }
                process::kill(pid, process::SIGKILL)
            }
        }
    }
}

/// The live (not zombie) processes whose process group id is `pgid`; `None` without `/proc`.
pub(crate) fn live_in_group(pgid: u32) -> Option<Vec<u32>> {
    if !std::path::Path::new("/proc/self/stat").exists() {
        return None;
    }
    let dir = std::fs::read_dir("/proc").ok()?;
    let mut live = Vec::new();
    for entry in dir.filter_map(Result::ok) {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if let Ok(Some(st)) = read_stat(pid)
            && st.pgrp == pgid
            && st.state != 'Z'
            && st.state != 'X'
        {
            live.push(pid);
        }
    }
    Some(live)
}

/// Why [`ProcessGroup::end`] could not end a group.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupEndError {
    /// Members were still alive when the wait ran out.
    #[error("processes {0:?} survived SIGKILL")]
    Survived(Vec<u32>),
    /// The group cannot be inspected from here (another host or pid namespace, no `/proc`).
    #[error("the process group cannot be inspected from this host")]
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    fn spawn_group(script: &str, marker: &str) -> std::process::Child {
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .env(GROUP_MARKER_ENV, marker)
            .process_group(0)
            .spawn()
            .unwrap()
    }

    fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
        let t = Instant::now();
        while !f() {
            assert!(t.elapsed() < Duration::from_secs(10), "timed out: {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn members_outlive_their_leader_and_end_kills_them() {
        let marker = ProcessGroup::new_marker();
        let mut leader = spawn_group("sleep 300 & sleep 300 & wait", &marker);
        let Some(group) = ProcessGroup::of_leader(leader.id(), &marker) else {
            let _ = leader.kill();
            let _ = leader.wait();
            return; // no /proc here
        };
        wait_for(
            "three members",
            || matches!(group.members(), Members::Known(m) if m.len() == 3),
        );
        // The leader dies (as by a parent-death signal); its children stay in the group.
        leader.kill().unwrap();
        leader.wait().unwrap();
        let Members::Known(left) = group.members() else {
            panic!("members unknown")
        };
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(group.is_alive());
        assert_eq!(group.end(Duration::from_secs(5)), Ok(2));
        assert_eq!(group.members(), Members::Known(Vec::new()));
        assert!(!group.is_alive());
    }

    #[test]
    fn a_process_without_the_marker_is_not_a_member_once_the_leader_is_gone() {
        let marker = ProcessGroup::new_marker();
        let pidfile = tempfile::NamedTempFile::new().unwrap();
        let script = format!(
            "env -u {GROUP_MARKER_ENV} sleep 300 & echo $! > {}; wait",
            pidfile.path().display()
        );
        let mut leader = spawn_group(&script, &marker);
        let Some(group) = ProcessGroup::of_leader(leader.id(), &marker) else {
            let _ = leader.kill();
            let _ = leader.wait();
            return;
        };
        let mut stranger = 0;
        wait_for("pid file", || {
            stranger = std::fs::read_to_string(pidfile.path())
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
            stranger != 0
        });
        // `$!` is known right after the fork: until `env` has run `sleep`, the stranger still
        // carries the marker (and is rightly a member).
        wait_for("the stranger runs sleep", || {
            std::fs::read(format!("/proc/{stranger}/cmdline"))
                .is_ok_and(|c| c.starts_with(b"sleep\0"))
        });
        leader.kill().unwrap();
        leader.wait().unwrap();
        // Same group id, but nothing proves it belongs to this run: never signalled.
        assert_eq!(group.members(), Members::Known(Vec::new()));
        assert_eq!(group.end(Duration::from_millis(200)), Ok(0));
        let alive = read_stat(stranger)
            .ok()
            .flatten()
            .is_some_and(|s| s.state != 'Z');
        assert!(alive, "an unverified process was killed");
        assert!(process::kill(stranger, process::SIGKILL));
    }

    #[test]
    fn a_reused_leader_pid_means_the_group_is_gone() {
        let marker = ProcessGroup::new_marker();
        let mut leader = spawn_group("exit 0", &marker);
        let Some(mut group) = ProcessGroup::of_leader(leader.id(), &marker) else {
            let _ = leader.wait();
            return;
        };
        // Pretend the recorded leader started earlier than the process now at that pid.
        group.leader_start_time = group.leader_start_time.saturating_sub(1);
        // Let `exit 0` finish (it stays a zombie until waited for): a leader still running
        // carries the marker and is a member whatever its start time.
        let deadline = Instant::now() + Duration::from_secs(30);
        while read_stat(leader.id())
            .ok()
            .flatten()
            .is_some_and(|s| s.state != 'Z')
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(group.members(), Members::Known(Vec::new()));
        leader.wait().unwrap();
        let other_host = ProcessGroup {
            host: "some-other-host".into(),
            ..group
        };
        assert_eq!(other_host.members(), Members::Unknown);
    }
}
