//! The gate boundary: run work on a worker thread, turn a panic into a message and bound the
//! wall-clock time.
//!
//! A panic anywhere below the gate (including in rayon workers, which propagate to the thread
//! that started them) unwinds to [`run_bounded`] and comes back as [`GuardError::Panicked`]
//! with its message. Past the deadline [`run_bounded`] returns [`GuardError::TimedOut`] at
//! once; the worker cannot be killed and is left to finish in the background, but nothing it
//! produces is used (the result channel is dropped). The merge gate can use the same harness.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;

/// Why guarded work produced no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// The work panicked; the panic message (or a placeholder for non-string payloads).
    #[error("panic in the gate: {0}")]
    Panicked(String),
    /// The work did not finish within the bound.
    #[error("timed out after {}", human(*.0))]
    TimedOut(Duration),
    /// The worker thread could not be started.
    #[error("cannot start the gate worker thread: {0}")]
    Spawn(String),
}

fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// The message of a panic payload (`&str` or `String`; anything else is described).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

/// Run `work` on a named worker thread and wait at most `timeout` for it.
///
/// ```
/// use std::time::Duration;
/// use portcullis::gate::security::guard::{run_bounded, GuardError};
/// assert_eq!(run_bounded(Duration::from_secs(5), || 6 * 7), Ok(42));
/// let e = run_bounded(Duration::from_secs(5), || -> u8 { panic!("boom") }).unwrap_err();
/// assert_eq!(e, GuardError::Panicked("boom".into()));
/// ```
pub fn run_bounded<T, F>(timeout: Duration, work: F) -> Result<T, GuardError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("portcullis-gate".into())
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(work))
                .map_err(|payload| GuardError::Panicked(panic_message(payload.as_ref())));
            // The receiver is gone after a timeout; the result is then discarded.
            let _ = tx.send(result);
        })
        .map_err(|e| GuardError::Spawn(e.to_string()))?;
    match rx.recv_timeout(timeout) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(GuardError::TimedOut(timeout)),
        // The sender is dropped without sending only if the thread died without unwinding
        // through catch_unwind (e.g. a panic while panicking); report it as a panic.
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(GuardError::Panicked(
            "the gate worker thread ended without a result".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn result_of_work_is_returned() {
        assert_eq!(
            run_bounded(Duration::from_secs(10), || "done".to_string()),
            Ok("done".to_string())
        );
    }

    #[test]
    fn panics_with_string_and_str_payloads_become_messages() {
        let n = 7;
        let e = run_bounded(Duration::from_secs(10), move || -> () {
            panic!("index {n} out of range")
        });
        assert_eq!(e, Err(GuardError::Panicked("index 7 out of range".into())));
        let e = run_bounded(Duration::from_secs(10), || -> () {
            std::panic::panic_any(17u32)
        });
        assert_eq!(
            e,
            Err(GuardError::Panicked(
                "panic with a non-string payload".into()
            ))
        );
    }

    #[test]
    fn panic_in_a_rayon_worker_is_caught_at_the_boundary() {
        let e = run_bounded(Duration::from_secs(10), || {
            use rayon::prelude::*;
            (0..64u32)
                .into_par_iter()
                .map(|i| {
                    if i == 63 {
                        panic!("worker {i} failed")
                    } else {
                        i
                    }
                })
                .sum::<u32>()
        });
        assert_eq!(e, Err(GuardError::Panicked("worker 63 failed".into())));
    }

    #[test]
    fn work_past_the_deadline_times_out_promptly() {
        let t = Instant::now();
        // The work blocks until the test lets it go (no fixed sleep; capped by a deadline).
        let (release, hold) = mpsc::channel::<()>();
        let e = run_bounded(Duration::from_millis(100), move || {
            let _ = hold.recv_timeout(Duration::from_secs(60));
            1
        });
        drop(release);
        assert_eq!(e, Err(GuardError::TimedOut(Duration::from_millis(100))));
        assert!(t.elapsed() < Duration::from_secs(2));
        assert_eq!(
            GuardError::TimedOut(Duration::from_secs(3)).to_string(),
            "timed out after 3 s"
        );
    }
}
