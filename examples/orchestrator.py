#!/usr/bin/env python3
"""The merge edge as a pipeline runs it, with the ``portcullis`` Python package.

For each task branch the pipeline calls ``portcullis.gate_all(..., land=True)`` once:

* ``PASS``  - the branch was security-checked before any rebase, rebased, re-tested, pushed,
  and main was fast-forwarded to exactly the tested commit: the task is done;
* ``FAIL``  - the branch goes back to its author with the report's (redacted) reasons and
  fix instructions for the failure reason;
* ``DEFER`` - another merge holds the repository's lease (or main kept moving): the branch is
  requeued and retried after ``retry_after_s``.

Run it::

    python examples/orchestrator.py --repo /srv/agent-clone --test "make test" task-1 task-2

It prints one JSON object: the outcome of every branch.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Deque, Dict, List, Optional, Sequence, Tuple

import portcullis

#: What the author of a branch is told to do, per FAIL reason.
FIX_INSTRUCTIONS: Dict[str, str] = {
    "security": (
        "Remove the secret from the branch's history (rewrite the commits that add it, do not "
        "just delete the file in a new commit) and rotate the credential; or update each "
        "vulnerable dependency to the fixed version the report names. Then resubmit."
    ),
    "tests_failed": "The tests fail on top of the current main: fix them on the branch and resubmit.",
    "test_timeout": "The tests did not finish in time on top of main: make them faster or fix the hang.",
    "conflict": "The branch conflicts with main in the files listed: rebase onto main, resolve, resubmit.",
    "push_rejected": "Someone else pushed to the branch meanwhile: reconcile the branch and resubmit.",
    "protected_ref": "Task branches must not be main or a protected branch: use a task branch.",
}
DEFAULT_FIX = "The gate failed for a reason that is not the branch's fault: see the report; retry later."


@dataclass
class Outcome:
    """What happened to one branch."""

    branch: str
    status: str  # "done", "sent_back" or "gave_up"
    verdict: str
    reason: Optional[str] = None
    reasons: List[str] = field(default_factory=list)
    fix: Optional[str] = None
    landed_sha: Optional[str] = None
    report_file: Optional[str] = None
    attempts: int = 0


def send_back(branch: str, verdict: portcullis.Verdict) -> Outcome:
    """A FAIL: the branch goes back to its author with redacted reasons and what to do."""
    reason = verdict.reason or "unknown"
    return Outcome(
        branch=branch,
        status="sent_back",
        verdict=verdict.verdict,
        reason=reason,
        reasons=list(verdict.reasons),
        fix=FIX_INSTRUCTIONS.get(reason, DEFAULT_FIX),
        report_file=verdict.report_file,
    )


def run_edge(
    repo: Path,
    branches: Sequence[str],
    *,
    test: str,
    holder: str = "orchestrator",
    reports: Optional[Path] = None,
    max_defers: int = 5,
    sleep: Callable[[float], None] = time.sleep,
    **gate_options: object,
) -> Dict[str, Outcome]:
    """Run every branch through ``gate_all`` with ``land=True`` until each is done, sent back,
    or has been deferred ``max_defers`` times."""
    reports = reports or (Path(repo) / ".portcullis-reports")
    reports.mkdir(parents=True, exist_ok=True)
    queue: Deque[Tuple[str, int]] = deque((b, 0) for b in branches)
    results: Dict[str, Outcome] = {}
    while queue:
        branch, defers = queue.popleft()
        stem = branch.replace("/", "_")
        v = portcullis.gate_all(
            repo,
            branch,
            holder=f"{holder}:{branch}",
            test=test,
            land=True,
            report_file=reports / f"{stem}.gate.md",
            merge_report_file=reports / f"{stem}.merge.md",
            security_report_file=reports / f"{stem}.security.md",
            **gate_options,  # type: ignore[arg-type]
        )
        if v.verdict == "PASS":
            results[branch] = Outcome(
                branch=branch,
                status="done",
                verdict="PASS",
                reasons=list(v.reasons),
                landed_sha=v.landed_sha,
                report_file=v.report_file,
                attempts=defers + 1,
            )
        elif v.verdict == "DEFER" and defers + 1 < max_defers:
            sleep(float(v.retry_after_s or 30))
            queue.append((branch, defers + 1))
        elif v.verdict == "DEFER":
            results[branch] = Outcome(
                branch=branch,
                status="gave_up",
                verdict="DEFER",
                reasons=list(v.reasons),
                report_file=v.report_file,
                attempts=defers + 1,
            )
        else:
            out = send_back(branch, v)
            out.attempts = defers + 1
            results[branch] = out
    return results


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repo", required=True, type=Path, help="the pipeline's clone")
    p.add_argument("--test", required=True, help="test command run on top of main")
    p.add_argument("--lease-dir", type=Path, help="lease directory")
    p.add_argument("--reports", type=Path, help="where the reports go")
    p.add_argument("--holder", default="orchestrator", help="lease holder prefix")
    p.add_argument("--max-defers", type=int, default=5)
    p.add_argument("branches", nargs="+")
    a = p.parse_args(argv)
    options = {"lease_dir": a.lease_dir} if a.lease_dir else {}
    results = run_edge(
        a.repo,
        a.branches,
        test=a.test,
        holder=a.holder,
        reports=a.reports,
        max_defers=a.max_defers,
        **options,
    )
    json.dump({b: asdict(o) for b, o in results.items()}, sys.stdout, indent=2)
    print()
    return 0 if all(o.status == "done" for o in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
