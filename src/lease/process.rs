//! Who holds a lease: host name, boot id, and the (pid, start time) of a live gate process.
//! (The process groups a holder starts are in `group`.)
//!
//! A pid alone is not an identity: pids are reused. The kernel's start time of the process
//! (field 22 of `/proc/<pid>/stat`, in clock ticks since boot) together with the boot id
//! (`/proc/sys/kernel/random/boot_id`) identifies one process lifetime on one machine.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One process lifetime on this host: the lease is stale as soon as this process is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessBinding {
    /// Process id.
    pub pid: u32,
    /// Start time of the process in clock ticks since boot (`/proc/<pid>/stat`, field 22).
    pub start_time: u64,
    /// The kernel boot id at the time of binding (empty when unknown).
    #[serde(default)]
    pub boot_id: String,
    /// The pid namespace of the process (`/proc/<pid>/ns/pid`, e.g. `pid:[4026531836]`;
    /// empty when unknown). Pids from another namespace are never judged dead.
    #[serde(default)]
    pub pid_ns: String,
}

impl ProcessBinding {
    /// The binding of the calling process, or `None` where `/proc` is unavailable.
    ///
    /// ```
    /// let me = portcullis::lease::ProcessBinding::current();
    /// if let Some(b) = me {
    ///     assert_eq!(b.pid, std::process::id());
    /// }
    /// ```
    pub fn current() -> Option<ProcessBinding> {
        ProcessBinding::of_pid(std::process::id())
    }

    /// The binding of a running process, or `None` if it does not exist (or `/proc` is
    /// unavailable).
    pub fn of_pid(pid: u32) -> Option<ProcessBinding> {
        let stat = read_stat(pid).ok()??;
        Some(ProcessBinding {
            pid,
            start_time: stat.start_time,
            boot_id: boot_id().unwrap_or_default(),
            pid_ns: pid_namespace(&format!("/proc/{pid}/ns/pid")).unwrap_or_default(),
        })
    }
}

/// Whether a bound process is still the one that took the lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Liveness {
    /// Same host, same boot, pid exists with the same start time and is not a zombie.
    Alive,
    /// Provably gone: no such pid, a zombie, a different start time, or a different boot.
    Dead,
    /// Cannot tell (other host, no `/proc`): only the TTL decides.
    Unknown,
}

/// Judge a binding recorded on `host`.
pub(crate) fn liveness(host: &str, b: &ProcessBinding) -> Liveness {
    if host != hostname() {
        return Liveness::Unknown;
    }
    let my_boot = boot_id();
    if let Some(mine) = &my_boot
        && !b.boot_id.is_empty()
        && *mine != b.boot_id
    {
        return Liveness::Dead;
    }
    // A pid from another pid namespace (another container sharing the lease directory)
    // means nothing here: only the TTL can decide.
    let my_ns = pid_namespace("/proc/self/ns/pid").unwrap_or_default();
    if !b.pid_ns.is_empty() && !my_ns.is_empty() && b.pid_ns != my_ns {
        return Liveness::Unknown;
    }
    match read_stat(b.pid) {
        Ok(None) => Liveness::Dead,
        Ok(Some(stat)) => {
            if stat.state == 'Z' || stat.state == 'X' || stat.start_time != b.start_time {
                Liveness::Dead
            } else {
                Liveness::Alive
            }
        }
        Err(()) => Liveness::Unknown,
    }
}

pub(super) struct Stat {
    pub(super) state: char,
    /// Process group id (field 5).
    pub(super) pgrp: u32,
    pub(super) start_time: u64,
}

/// `Ok(None)`: the process does not exist. `Err(())`: `/proc` unusable here.
pub(super) fn read_stat(pid: u32) -> Result<Option<Stat>, ()> {
    if !Path::new("/proc/self/stat").exists() {
        return Err(());
    }
    let text = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // ESRCH while reading: the process vanished between open and read.
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Ok(None),
        Err(_) => return Err(()),
    };
    // The command name (field 2) is in parentheses and may contain spaces or ')'.
    let rest = text.rsplit_once(')').map(|(_, r)| r).ok_or(())?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: field 3 (state) is index 0, field 22 (starttime) is index 19.
    let state = fields.first().and_then(|s| s.chars().next()).ok_or(())?;
    let pgrp = fields.get(2).and_then(|s| s.parse().ok()).ok_or(())?;
    let start_time = fields.get(19).and_then(|s| s.parse().ok()).ok_or(())?;
    Ok(Some(Stat {
        state,
        pgrp,
        start_time,
    }))
}

pub(super) fn pid_namespace(link: &str) -> Option<String> {
    std::fs::read_link(link)
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// The kernel boot id (Linux), trimmed.
pub(crate) fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// This machine's host name (empty string if it cannot be read).
pub fn hostname() -> String {
    portcullis_unsafe::process::hostname()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_a_wrong_start_time_is_dead() {
        let Some(me) = ProcessBinding::current() else {
            return; // no /proc on this platform
        };
        assert_eq!(liveness(&hostname(), &me), Liveness::Alive);
        let reused = ProcessBinding {
            start_time: me.start_time + 1,
            ..me.clone()
        };
        assert_eq!(liveness(&hostname(), &reused), Liveness::Dead);
        let other_boot = ProcessBinding {
            boot_id: "not-this-boot".into(),
            ..me.clone()
        };
        assert_eq!(liveness(&hostname(), &other_boot), Liveness::Dead);
        let other_ns = ProcessBinding {
            pid_ns: "pid:[1]".into(),
            ..reused.clone()
        };
        assert_eq!(liveness(&hostname(), &other_ns), Liveness::Unknown);
        assert_eq!(liveness("some-other-host", &reused), Liveness::Unknown);
    }

    #[test]
    fn reaped_child_is_dead() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let b = ProcessBinding::of_pid(child.id());
        child.wait().unwrap();
        if let Some(b) = b {
            assert_eq!(liveness(&hostname(), &b), Liveness::Dead);
        }
    }
}
