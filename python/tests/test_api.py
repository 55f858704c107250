"""The Python API over the extension module, on real repositories."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import portcullis
from conftest import Edge, VULNERABLE_CARGO_LOCK, aws_key, commit, git


def test_security_gate_passes_a_clean_branch_with_typed_attributes(edge: Edge) -> None:
    v = portcullis.security_gate(
        repo=edge.work,
        base="origin/main",
        head="clean",
        report_file=edge.reports / "sec.md",
    )
    assert v.verdict == "PASS", v.reasons
    assert v.passed and bool(v)
    assert v.exit_code == 0
    assert v.head_commit == edge.branches["clean"]
    assert v.schema == "portcullis/security-report/v1"
    assert Path(v.report_file or "").is_file()
    assert v.frontmatter["secrets"]["findings"] == 0


def test_security_gate_fails_a_secret_without_revealing_it(edge: Edge) -> None:
    v = portcullis.security_gate(
        repo=edge.work, head="secret", report_file=edge.reports / "sec.md"
    )
    assert v.verdict == "FAIL"
    assert v.reasons
    assert aws_key() not in json.dumps(v.frontmatter)
    assert all(aws_key() not in r for r in v.reasons)
    assert aws_key() not in (edge.reports / "sec.md").read_text()


def test_security_gate_never_raises(tmp_path: Path) -> None:
    v = portcullis.security_gate(repo=tmp_path / "does-not-exist", report_file=tmp_path / "r.md")
    assert v.verdict == "FAIL"
    assert v.reasons


def test_merge_gate_pass_holds_the_lease_with_a_token(edge: Edge) -> None:
    v = portcullis.merge_gate(
        edge.work,
        "clean",
        holder="pipeline-1",
        test="test -f notes.txt",
        lease_dir=edge.leases,
        report_file=edge.reports / "merge.md",
    )
    assert v.verdict == "PASS", v.reasons
    assert v.tested_sha == edge.branches["clean"]
    assert isinstance(v.fencing_token, int) and v.fencing_token > 0
    assert v.lease_nonce
    assert v.frontmatter["security"]["mode"] == "run"


def test_merge_gate_runs_the_security_gate_first(edge: Edge) -> None:
    before = edge.origin_ref("secret")
    v = portcullis.merge_gate(
        edge.work,
        "secret",
        holder="pipeline-1",
        test="true",
        lease_dir=edge.leases,
        report_file=edge.reports / "merge.md",
    )
    assert v.verdict == "FAIL"
    assert v.reason == "security"
    assert edge.origin_ref("secret") == before


def test_merge_gate_bad_options_are_a_fail_not_an_exception(edge: Edge) -> None:
    v = portcullis.merge_gate(edge.work, "clean", test="true", test_timeout_s=-1)  # type: ignore[arg-type]
    assert v.verdict == "FAIL"
    assert "invalid options" in v.reasons[0]


def test_gate_all_lands_exactly_the_tested_commit(edge: Edge) -> None:
    v = portcullis.gate_all(
        edge.work,
        "clean",
        holder="pipeline-1",
        test="true",
        land=True,
        lease_dir=edge.leases,
        report_file=edge.reports / "all.md",
        merge_report_file=edge.reports / "merge.md",
        security_report_file=edge.reports / "sec.md",
    )
    assert v.verdict == "PASS", v.reasons
    assert v.landed_sha == v.tested_sha == edge.origin_ref("main")
    assert v.lease_held is False
    assert [s.step for s in v.steps] == ["resolve", "security", "merge", "land", "release"]
    assert v.security_report == str(edge.reports / "sec.md")
    assert v.merge_report == str(edge.reports / "merge.md")


def test_gate_all_fails_security_for_a_vulnerable_lockfile(edge: Edge) -> None:
    main = edge.origin_ref("main")
    v = portcullis.gate_all(
        edge.work,
        "vulnerable",
        holder="pipeline-1",
        test="true",
        land=True,
        lease_dir=edge.leases,
        report_file=edge.reports / "all.md",
        security_report_file=edge.reports / "sec.md",
        merge_report_file=edge.reports / "merge.md",
    )
    assert v.verdict == "FAIL"
    assert v.reason == "security"
    assert any("smallvec" in r for r in v.reasons), v.reasons
    assert edge.origin_ref("main") == main
    assert not (edge.reports / "merge.md").exists()


def test_gate_all_defers_while_another_holder_has_the_lease(edge: Edge) -> None:
    first = portcullis.merge_gate(
        edge.work, "clean", holder="other", test="true", lease_dir=edge.leases,
        report_file=edge.reports / "m1.md",
    )
    assert first.verdict == "PASS", first.reasons
    git(edge.work, "checkout", "-q", "-b", "second", "origin/main")
    commit(edge.work, "second.txt", "2\n", "second")
    git(edge.work, "checkout", "-q", "--detach", "origin/main")
    v = portcullis.gate_all(
        edge.work, "second", holder="me", test="true", land=True, lease_dir=edge.leases,
        report_file=edge.reports / "all.md", merge_report_file=edge.reports / "m2.md",
        security_report_file=edge.reports / "s2.md",
    )
    assert v.verdict == "DEFER", v.reasons
    assert v.exit_code == 3
    assert v.retry_after_s and v.retry_after_s > 0
    assert v.holder == "other"


def test_gate_all_with_an_unreachable_lease_database_fails_with_lease_error(edge: Edge) -> None:
    main = edge.origin_ref("main")
    url = "postgres://pipeline:s3cr3t-pw@127.0.0.1:1/leases"
    v = portcullis.gate_all(
        edge.work, "clean", holder="pipeline-1", test="true", land=True, lease_url=url,
        report_file=edge.reports / "all.md", merge_report_file=edge.reports / "merge.md",
        security_report_file=edge.reports / "sec.md",
    )
    assert v.verdict == "FAIL", v.reasons
    assert v.reason == "lease_error", v.reasons
    assert edge.origin_ref("main") == main
    assert all("s3cr3t-pw" not in r for r in v.reasons), v.reasons
    assert "s3cr3t-pw" not in (edge.reports / "all.md").read_text()
    m = portcullis.merge_gate(
        edge.work, "clean", holder="pipeline-1", test="true", lease_url=url,
        report_file=edge.reports / "m.md",
    )
    assert m.verdict == "FAIL" and m.reason == "lease_error", m.reasons


def test_read_verdict_checks_the_head(edge: Edge) -> None:
    report = edge.reports / "sec.md"
    v = portcullis.security_gate(repo=edge.work, head="clean", report_file=report)
    assert v.passed
    assert portcullis.read_verdict(report).passed
    assert portcullis.read_verdict(report, head=edge.branches["clean"]).passed
    assert portcullis.read_verdict(report, head=edge.branches["clean"][:10]).passed
    other = portcullis.read_verdict(report, head=edge.branches["secret"])
    assert other.verdict == "FAIL"
    assert "not about commit" in other.reasons[0]
    assert portcullis.read_verdict(edge.reports / "missing.md").verdict == "FAIL"


def test_scan_text_redacts_unless_asked(tmp_path: Path) -> None:
    text = f"aws_access_key_id = {aws_key()}\n"
    found = portcullis.scan_text(text, path="x.env")
    assert [f.rule_id for f in found] == ["aws-access-token"]
    assert found[0].secret == "REDACTED" and aws_key() not in found[0].match
    assert found[0].file == "x.env" and found[0].start_line == 1
    revealed = portcullis.scan_text(text, reveal=True)
    assert revealed[0].secret == aws_key()
    assert portcullis.scan_text("nothing to see\n") == []
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rules]]\nid = 'x'\nregex = '('\n")
    try:
        portcullis.scan_text(text, config=bad)
    except ValueError:
        pass
    else:
        raise AssertionError("an invalid configuration must raise ValueError")


def test_audit_finds_the_vulnerable_pin(tmp_path: Path) -> None:
    lock = tmp_path / "Cargo.lock"
    lock.write_text(VULNERABLE_CARGO_LOCK)
    report = portcullis.audit(lock)
    assert not report.ok
    assert [(f.package, f.version) for f in report.findings if f.blocking] == [
        ("smallvec", "1.6.0")
    ]
    assert report.raw["schema"] == "portcullis.audit/v1"
    lock.write_text(VULNERABLE_CARGO_LOCK.replace("1.6.0", "1.13.2"))
    assert portcullis.audit([lock]).ok


def test_the_gil_is_released_while_a_gate_runs(edge: Edge) -> None:
    ticks = 0
    done = threading.Event()

    def gate() -> None:
        portcullis.merge_gate(
            edge.work, "clean", holder="p", test="sleep 1", lease_dir=edge.leases,
            report_file=edge.reports / "merge.md", no_security=True,
        )
        done.set()

    t = threading.Thread(target=gate)
    start = time.monotonic()
    t.start()
    while not done.is_set() and time.monotonic() - start < 60:
        ticks += 1
        time.sleep(0.01)
    t.join()
    # With the GIL held for the whole gate, this loop could not run until it ended.
    assert ticks >= 50, ticks
