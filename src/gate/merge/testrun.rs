//! Running the test command on the combined tree: own process group, timeout, lease
//! renewal while it runs, output tail.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::lease;

use super::git::scrub_git_env;
use super::proc::{Bounds, GroupRecorder, RunEnd, run_with};
use super::redact::redact_text;
use super::{Failure, Run, fail, short};
use crate::report::redact::RedactError;

/// Lines of test output kept in the report.
const TAIL_LINES: usize = 40;
/// Bytes of test output kept in the report (at most).
const TAIL_BYTES: usize = 4000;

/// The last lines of `text`, within the byte budget, and the byte offset in `text` where
/// the tail starts. The tail starts at a line start unless a single line exceeds the budget.
fn output_tail(text: &str) -> (String, usize) {
    let trimmed = text.trim_end_matches(['\n', '\r']);
    let mut from = 0;
    let mut lines = 0;
    for (i, _) in trimmed
        .match_indices('\n')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        lines += 1;
        if lines >= TAIL_LINES {
            from = i + 1;
            break;
        }
    }
    if trimmed.len() - from > TAIL_BYTES {
        let mut cut = trimmed.len() - TAIL_BYTES;
        while !trimmed.is_char_boundary(cut) {
            cut += 1;
        }
        // Prefer whole lines: skip the partial line at the cut, if another line follows.
        from = match trimmed[cut..].find('\n') {
            Some(nl) if cut + nl + 1 < trimmed.len() => cut + nl + 1,
            _ => cut,
        };
    }
    (trimmed[from..].to_string(), from)
}

/// The output tail to store in the report, with secrets redacted: the whole captured output
/// is scanned (so a secret cut by the tail boundary is still found), then the tail is taken.
/// If the detection engine is unavailable the tail is omitted and the report says so.
fn stored_tail(run: &mut Run, bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    tail_of(run, redact_text(&text))
}

/// The stored tail given the redaction result (`Err`: the engine is unavailable, so the
/// tail is omitted and the report says why).
fn tail_of(run: &mut Run, redaction: Result<(String, Vec<usize>), RedactError>) -> String {
    match redaction {
        Ok((redacted, marks)) => {
            let (tail, from) = output_tail(&redacted);
            let in_tail = marks.iter().filter(|&&m| m >= from).count();
            let in_tail = u64::try_from(in_tail).unwrap_or(u64::MAX);
            run.fm.test_output_redactions = Some(in_tail);
            if in_tail > 0 {
                run.fm.reasons.push(format!(
                    "{in_tail} secret(s) redacted in the stored test output tail"
                ));
            }
            tail
        }
        Err(e) => {
            run.fm.test_output_redactions = None;
            run.fm.test_output_tail_omitted = true;
            run.fm.reasons.push(format!(
                "test output tail omitted: secret redaction unavailable ({e})"
            ));
            format!("(omitted: secret redaction unavailable: {e})")
        }
    }
}

/// Run the test command in `wt`; `Ok` only when it exits 0 within `timeout` while the
/// lease stays ours.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_tests(
    run: &mut Run,
    wt: &Path,
    command: &str,
    timeout: Duration,
    base: &str,
    tested: &str,
    branch: &str,
) -> Result<(), Failure> {
    let (loc, holder, nonce, ttl, token) = match &run.held {
        Some(h) => (
            h.loc.clone(),
            h.record.holder.clone(),
            h.record.nonce.clone(),
            h.ttl,
            h.record.fencing_token,
        ),
        None => return Err(fail("lease_lost", "lease not held")),
    };
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(wt)
        .env("PORTCULLIS_BASE_SHA", base)
        .env("PORTCULLIS_TESTED_SHA", tested)
        .env("PORTCULLIS_BRANCH", branch)
        .env("PORTCULLIS_FENCING_TOKEN", token.to_string());
    scrub_git_env(&mut cmd);
    // Renew the lease a few times per TTL while the test runs; stop the test if it is lost.
    let every = (ttl / 3).max(Duration::from_millis(200));
    let mut last = Instant::now();
    let mut lost: Option<(&'static str, String)> = None;
    let mut tick = || {
        if last.elapsed() < every {
            return true;
        }
        last = Instant::now();
        match lease::renew(&loc, &holder, Some(&nonce), ttl) {
            Ok(_) => true,
            Err(e) => {
                lost = Some((e.gate_reason(), e.to_string()));
                false
            }
        }
    };
    let recorder = GroupRecorder {
        loc: loc.clone(),
        holder: holder.clone(),
        nonce: nonce.clone(),
    };
    let result = run_with(
        cmd,
        Bounds {
            timeout,
            tick: &mut tick,
            merged: true,
            max_capture: 256 * 1024,
            record: Some((&recorder, "test command")),
        },
    );
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            run.fm.test_output_tail = Some(e.to_string());
            return Err(fail(
                "tests_failed",
                format!("test command could not run: {e}"),
            ));
        }
    };
    run.fm.test_duration_ms = Some(u64::try_from(result.elapsed.as_millis()).unwrap_or(u64::MAX));
    let tail = stored_tail(run, &result.output);
    run.fm.test_output_tail = Some(tail);
    match result.end {
        RunEnd::Exited(Some(0)) => {
            run.fm.test_exit_code = Some(0);
            Ok(())
        }
        RunEnd::Exited(code) => {
            run.fm.test_exit_code = code;
            Err(fail(
                "tests_failed",
                format!(
                    "test command failed ({}) on {}",
                    code.map_or("killed by a signal".into(), |c| format!("exit {c}")),
                    short(tested)
                ),
            ))
        }
        RunEnd::TimedOut => Err(fail(
            "test_timeout",
            format!(
                "test command exceeded {}s; its process group was killed",
                timeout.as_secs()
            ),
        )),
        RunEnd::Stopped => {
            run.held = None;
            let (reason, why) = lost.unwrap_or(("lease_lost", String::new()));
            Err(fail(
                reason,
                format!("lease lost while testing ({why}); test stopped"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::merge::report::MergeFrontmatter;

    fn run() -> Run {
        Run {
            fm: MergeFrontmatter::new("r".into(), "o".into(), "b".into(), "main".into()),
            held: None,
        }
    }

    #[test]
    fn engine_unavailable_omits_the_tail_and_says_so() {
        let mut r = run();
        let tail = tail_of(&mut r, Err(RedactError::Unavailable("no rules".into())));
        assert!(tail.starts_with("(omitted"), "{tail}");
        assert!(r.fm.test_output_tail_omitted);
        assert_eq!(r.fm.test_output_redactions, None);
        assert!(r.fm.reasons.iter().any(|l| l.contains("tail omitted")));
    }

    #[test]
    fn redactions_before_the_tail_are_not_counted() {
        let mut r = run();
        let text: String = (0..60).map(|i| format!("l{i}\n")).collect();
        // One mark in line 0 (outside the 40-line tail), one in line 59.
        let last = text.rfind("l59").unwrap_or(0);
        let tail = tail_of(&mut r, Ok((text.clone(), vec![0, last])));
        assert!(tail.ends_with("l59"));
        assert_eq!(r.fm.test_output_redactions, Some(1));
    }

    #[test]
    fn tail_keeps_last_lines_within_budget() {
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let (t, from) = output_tail(&text);
        assert!(t.ends_with("line 99"));
        assert!(!t.contains("line 59\n"));
        assert!(t.starts_with("line 60\n"));
        assert_eq!(&text[from..from + 7], "line 60");
        let long = "é".repeat(5000);
        assert!(output_tail(&long).0.len() <= TAIL_BYTES + 1);
        // Over the byte budget: whole lines only.
        let wide: String = (0..40)
            .map(|i| format!("{i:03} {}\n", "x".repeat(150)))
            .collect();
        let (t, from) = output_tail(&wide);
        assert!(t.len() <= TAIL_BYTES);
        assert_eq!(from, wide[..from].rfind('\n').map_or(0, |i| i + 1));
        assert!(t.ends_with(&"x".repeat(150)));
    }
}
