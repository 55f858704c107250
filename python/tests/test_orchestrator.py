"""examples/orchestrator.py against a throwaway origin with three branches: clean (lands),
secret and vulnerable lockfile (sent back with redacted reasons and fix instructions)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from conftest import Edge, aws_key, git

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "orchestrator.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("orchestrator", EXAMPLE)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["orchestrator"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_orchestrator_lands_clean_and_sends_back_secret_and_vulnerable(edge: Edge) -> None:
    orch = load()
    main_before = edge.origin_ref("main")
    secret_before = edge.origin_ref("secret")
    results = orch.run_edge(
        edge.work,
        ["clean", "secret", "vulnerable"],
        test="true",
        reports=edge.reports,
        lease_dir=edge.leases,
        sleep=lambda s: None,
    )
    clean, secret, vuln = results["clean"], results["secret"], results["vulnerable"]
    assert clean.status == "done", clean
    assert clean.landed_sha == edge.origin_ref("main")
    git(edge.origin, "merge-base", "--is-ancestor", main_before, clean.landed_sha)
    assert secret.status == "sent_back" and secret.reason == "security", secret
    assert "rotate the credential" in (secret.fix or "")
    assert all(aws_key() not in r for r in secret.reasons)
    assert edge.origin_ref("secret") == secret_before
    assert vuln.status == "sent_back" and vuln.reason == "security", vuln
    assert any("smallvec" in r for r in vuln.reasons), vuln.reasons
    # main holds exactly the clean branch's tested commit.
    assert edge.origin_ref("main") == clean.landed_sha


def test_orchestrator_requeues_a_deferred_branch_after_retry_after_s(edge: Edge) -> None:
    orch = load()
    import portcullis

    held = portcullis.merge_gate(
        edge.work, "clean", holder="someone-else", test="true", lease_dir=edge.leases,
        report_file=edge.reports / "other.md",
    )
    assert held.passed, held.reasons
    waits = []
    results = orch.run_edge(
        edge.work, ["vulnerable"], test="true", reports=edge.reports,
        lease_dir=edge.leases, sleep=waits.append, max_defers=2,
    )
    # The security gate runs before the lease: a failing branch is sent back at once.
    assert results["vulnerable"].status == "sent_back"
    assert waits == []
    git(edge.work, "checkout", "-q", "-b", "late", "origin/main")
    (edge.work / "late.txt").write_text("late\n")
    git(edge.work, "add", "late.txt")
    git(edge.work, "commit", "-qm", "late")
    git(edge.work, "checkout", "-q", "--detach", "origin/main")
    results = orch.run_edge(
        edge.work, ["late"], test="true", reports=edge.reports,
        lease_dir=edge.leases, sleep=waits.append, max_defers=2,
    )
    assert results["late"].status == "gave_up", results["late"]
    assert len(waits) == 1 and waits[0] > 0


def test_orchestrator_command_line_prints_outcomes(edge: Edge) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--repo", str(edge.work), "--test", "true",
         "--lease-dir", str(edge.leases), "--reports", str(edge.reports), "clean", "secret"],
        capture_output=True, text=True,
    )
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert doc["clean"]["status"] == "done"
    assert doc["secret"]["status"] == "sent_back"
