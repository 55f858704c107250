"""The `portcullis` console script of the package, and every `--format json` output and
report frontmatter validated against the JSON Schemas in docs/schemas/."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import jsonschema
import pytest

import portcullis
from conftest import SCHEMAS, VULNERABLE_CARGO_LOCK, Edge

REPORT_SCHEMAS = {
    "portcullis/security-report/v1": "security-report-v1.schema.json",
    "portcullis/merge-report/v1": "merge-report-v1.schema.json",
    "portcullis/gate-all-report/v1": "gate-all-report-v1.schema.json",
}


def schema(name: str) -> Dict[str, Any]:
    s = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(s)
    return s


def validate(doc: Dict[str, Any], name: str) -> None:
    jsonschema.Draft202012Validator(schema(name)).validate(doc)


def script() -> str:
    """The console script the package installed (beside this interpreter, else on PATH)."""
    beside = Path(sys.executable).parent / "portcullis"
    exe = str(beside) if beside.is_file() else shutil.which("portcullis")
    assert exe, "the package installs a portcullis console script"
    return exe


def cli(args: List[str], code: int) -> Dict[str, Any]:
    exe = script()
    out = subprocess.run([exe, *args], capture_output=True, text=True)
    assert out.returncode == code, (out.stdout, out.stderr)
    doc = json.loads(out.stdout)
    assert isinstance(doc, dict), out.stdout
    return doc


def check_gate_output(doc: Dict[str, Any]) -> None:
    validate(doc, "gate-output-v1.schema.json")
    fm = doc["frontmatter"]
    if fm is not None:
        validate(fm, REPORT_SCHEMAS[doc["report_schema"]])


def test_console_script_prints_the_version() -> None:
    exe = script()
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    lines = out.stdout.strip().splitlines()
    assert lines[0] == f"portcullis {portcullis.__version__}"
    # The version names the embedded advisory snapshot the audit runs on.
    assert lines[1] == "embedded advisory snapshot:", lines
    assert any(line.strip().startswith("rustsec ") for line in lines[2:]), lines


def test_every_json_output_matches_its_schema(edge: Edge) -> None:
    work, r = str(edge.work), edge.reports
    sec = cli(["gate", "security", work, "--head", "clean", "--report-file", str(r / "s.md"),
               "--format", "json"], 0)
    check_gate_output(sec)
    assert sec["verdict"] == "PASS"
    bad = cli(["gate", "security", work, "--head", "secret", "--report-file", str(r / "s2.md"),
               "--format", "json"], 1)
    check_gate_output(bad)
    assert bad["verdict"] == "FAIL"

    merge = cli(["gate", "merge", "--repo", work, "--branch", "clean", "--test", "true",
                 "--lease-dir", str(edge.leases), "--report-file", str(r / "m.md"),
                 "--format", "json"], 0)
    check_gate_output(merge)
    assert merge["frontmatter"]["security"]["verdict"] == "PASS"

    status = cli(["lease", "status", "--repo", work, "--lease-dir", str(edge.leases),
                  "--format", "json"], 0)
    validate(status, "lease-output-v1.schema.json")
    assert status["result"] == "held"
    rel = cli(["lease", "release", "--repo", work, "--lease-dir", str(edge.leases),
               "--holder", merge["frontmatter"]["gate_holder"], "--format", "json"], 0)
    validate(rel, "lease-output-v1.schema.json")

    landed = cli(["gate", "all", "--repo", work, "--branch", "clean", "--test", "true",
                  "--land", "--lease-dir", str(edge.leases), "--report-file", str(r / "a.md"),
                  "--merge-report", str(r / "m.md"), "--security-report", str(r / "s.md"),
                  "--format", "json"], 0)
    check_gate_output(landed)
    assert landed["frontmatter"]["landed_sha"] == edge.origin_ref("main")

    failed = cli(["gate", "all", "--repo", work, "--branch", "secret", "--test", "true",
                  "--land", "--lease-dir", str(edge.leases), "--report-file", str(r / "a2.md"),
                  "--merge-report", str(r / "m2.md"), "--security-report", str(r / "s3.md"),
                  "--format", "json"], 1)
    check_gate_output(failed)
    assert failed["frontmatter"]["reason"] == "security"

    for report, code in [(r / "a.md", 0), (r / "a2.md", 1), (r / "missing.md", 1)]:
        v = cli(["verdict", str(report), "--format", "json"], code)
        check_gate_output(v)


def test_audit_json_matches_its_schema(tmp_path: Path) -> None:
    lock = tmp_path / "Cargo.lock"
    lock.write_text(VULNERABLE_CARGO_LOCK)
    doc = cli(["audit", str(lock), "--format", "json", "-q"], 1)
    validate(doc, "audit-v1.schema.json")
    assert doc["findings"][0]["package"] == "smallvec"


def test_schemas_reject_contradicting_documents() -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate(
            {"schema": "portcullis/gate-output/v1", "command": "gate all", "verdict": "PASS",
             "exit_code": 1, "report_file": None, "report_schema": None, "reasons": [],
             "frontmatter": None},
            "gate-output-v1.schema.json",
        )
