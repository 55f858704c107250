"""portcullis: secret scanner, dependency audit and fail-closed merge gates.

The gates run in-process through the Rust library (the ``_portcullis`` extension module)
with the GIL released. They never raise: any error is a ``FAIL`` verdict that says why.

    >>> import portcullis
    >>> v = portcullis.gate_all(repo=".", branch="task-42", holder="pipeline-7",
    ...                         test="make test", land=True)       # doctest: +SKIP
    >>> v.verdict, v.tested_sha, v.retry_after_s                    # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _portcullis

__all__ = [
    "AuditFinding",
    "AuditReport",
    "Finding",
    "Step",
    "Verdict",
    "audit",
    "gate_all",
    "merge_gate",
    "read_verdict",
    "scan_text",
    "security_gate",
    "__version__",
]

__version__: str = _portcullis.__version__

PathLike = Union[str, "os.PathLike[str]"]


def _path(p: Optional[PathLike]) -> Optional[str]:
    return None if p is None else os.fspath(p)


def _paths(ps: Optional[Sequence[PathLike]]) -> List[str]:
    return [os.fspath(p) for p in (ps or [])]


def _opt_str(fm: Dict[str, Any], key: str) -> Optional[str]:
    v = fm.get(key)
    return v if isinstance(v, str) else None


def _opt_int(fm: Dict[str, Any], key: str) -> Optional[int]:
    v = fm.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


@dataclass(frozen=True)
class Step:
    """One step of a ``gate_all`` run."""

    step: str
    attempt: int
    outcome: str
    detail: str
    report: Optional[str] = None


@dataclass(frozen=True)
class Verdict:
    """A gate verdict as read back from its report (the report file is the source of truth).

    ``verdict`` is ``"PASS"``, ``"FAIL"`` or ``"DEFER"``; ``reasons`` are the report's own
    lines (secrets in them are redacted by the gates). The remaining attributes are the
    report's frontmatter fields, ``None`` where the report has none; ``frontmatter`` holds
    all of it.
    """

    verdict: str
    reasons: List[str]
    report_file: Optional[str]
    exit_code: int
    schema: Optional[str]
    command: str
    reason: Optional[str] = None
    retry_after_s: Optional[int] = None
    tested_sha: Optional[str] = None
    base_sha: Optional[str] = None
    landed_sha: Optional[str] = None
    fencing_token: Optional[int] = None
    lease_nonce: Optional[str] = None
    lease_held: Optional[bool] = None
    holder: Optional[str] = None
    branch: Optional[str] = None
    head_commit: Optional[str] = None
    merge_base: Optional[str] = None
    security_report: Optional[str] = None
    merge_report: Optional[str] = None
    skipped: bool = False
    steps: List[Step] = field(default_factory=list)
    frontmatter: Dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True only for PASS."""
        return self.verdict == "PASS"

    def __bool__(self) -> bool:
        return self.passed

    @classmethod
    def _from_output(cls, out: Dict[str, Any]) -> "Verdict":
        fm = out.get("frontmatter") or {}
        if not isinstance(fm, dict):
            fm = {}
        steps = [
            Step(
                step=str(s.get("step", "")),
                attempt=int(s.get("attempt", 0)),
                outcome=str(s.get("outcome", "")),
                detail=str(s.get("detail", "")),
                report=s.get("report"),
            )
            for s in fm.get("steps") or []
            if isinstance(s, dict)
        ]
        held = fm.get("lease_held")
        return cls(
            verdict=str(out.get("verdict", "FAIL")),
            reasons=[str(r) for r in out.get("reasons") or []],
            report_file=out.get("report_file"),
            exit_code=int(out.get("exit_code", 1)),
            schema=out.get("report_schema"),
            command=str(out.get("command", "")),
            reason=_opt_str(fm, "reason"),
            retry_after_s=_opt_int(fm, "retry_after_s"),
            tested_sha=_opt_str(fm, "tested_sha"),
            base_sha=_opt_str(fm, "base_sha"),
            landed_sha=_opt_str(fm, "landed_sha"),
            fencing_token=_opt_int(fm, "fencing_token"),
            lease_nonce=_opt_str(fm, "lease_nonce"),
            lease_held=held if isinstance(held, bool) else None,
            holder=_opt_str(fm, "holder"),
            branch=_opt_str(fm, "branch"),
            head_commit=_opt_str(fm, "head_commit"),
            merge_base=_opt_str(fm, "merge_base"),
            security_report=_opt_str(fm, "security_report"),
            merge_report=_opt_str(fm, "merge_report"),
            skipped=fm.get("skipped") is True,
            steps=steps,
            frontmatter=fm,
        )


def _fail(command: str, why: str) -> Verdict:
    return Verdict(
        verdict="FAIL",
        reasons=[why],
        report_file=None,
        exit_code=1,
        schema=None,
        command=command,
    )


def _run_gate(command: str, fn: Any, options: Dict[str, Any]) -> Verdict:
    try:
        clean = {k: v for k, v in options.items() if v is not None}
        out = json.loads(fn(json.dumps(clean)))
        return Verdict._from_output(out)
    except BaseException as e:  # noqa: BLE001 - the gates never raise, as promised
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        return _fail(command, f"{command}: {type(e).__name__}: {e}")


def security_gate(
    repo: PathLike = ".",
    base: str = "origin/main",
    head: str = "HEAD",
    report_file: Optional[PathLike] = None,
    settings: Optional[PathLike] = None,
    config: Optional[PathLike] = None,
    *,
    ignore_files: Optional[Sequence[PathLike]] = None,
    dbs: Optional[Sequence[PathLike]] = None,
    audit_exclude: Optional[Sequence[str]] = None,
    ignore_advisories: Optional[Sequence[str]] = None,
    online: bool = False,
    osv_url: Optional[str] = None,
    dep_audit_fail_closed: Optional[bool] = None,
    timeout_s: Optional[int] = None,
) -> Verdict:
    """Run the security gate on ``merge-base(base, head)..head``. Never raises."""
    return _run_gate(
        "gate security",
        _portcullis.security_gate,
        {
            "repo": _path(repo),
            "base": base,
            "head": head,
            "report_file": _path(report_file),
            "settings": _path(settings),
            "config": _path(config),
            "ignore_files": _paths(ignore_files),
            "dbs": _paths(dbs),
            "audit_exclude": list(audit_exclude or []),
            "ignore_advisories": list(ignore_advisories or []),
            "online": online,
            "osv_url": osv_url,
            "dep_audit_fail_closed": dep_audit_fail_closed,
            "timeout_s": timeout_s,
        },
    )


def _merge_args(
    repo: PathLike,
    branch: str,
    holder: Optional[str],
    test: Optional[str],
    main: str,
    remote: str,
    test_timeout_s: Optional[int],
    worktree: Optional[PathLike],
    lease_dir: Optional[PathLike],
    lease_url: Optional[str],
    ttl_s: Optional[int],
    report_file: Optional[PathLike],
    settings: Optional[PathLike],
) -> dict:
    """The arguments the merge gate and the whole edge share, as the extension takes them."""
    return {
        "repo": _path(repo),
        "branch": branch,
        "holder": holder,
        "test": test,
        "main": main,
        "remote": remote,
        "test_timeout_s": test_timeout_s,
        "worktree": _path(worktree),
        "lease_dir": _path(lease_dir),
        "lease_url": lease_url,
        "ttl_s": ttl_s,
        "report_file": _path(report_file),
        "settings": _path(settings),
    }


def merge_gate(
    repo: PathLike,
    branch: str,
    holder: Optional[str] = None,
    test: Optional[str] = None,
    *,
    main: str = "main",
    remote: str = "origin",
    test_timeout_s: Optional[int] = None,
    worktree: Optional[PathLike] = None,
    lease_dir: Optional[PathLike] = None,
    lease_url: Optional[str] = None,
    ttl_s: Optional[int] = None,
    report_file: Optional[PathLike] = None,
    settings: Optional[PathLike] = None,
    security_report: Optional[PathLike] = None,
    no_security: bool = False,
) -> Verdict:
    """Run the merge gate (security verdict first, lease, rebase, re-test, push the branch).

    By default the security gate runs on the branch head first; ``security_report`` accepts
    an existing PASS report for the same head and merge-base instead; ``no_security=True`` is
    the recorded opt-out. Never raises.
    """
    return _run_gate(
        "gate merge",
        _portcullis.merge_gate,
        {
            **_merge_args(
                repo, branch, holder, test, main, remote, test_timeout_s, worktree,
                lease_dir, lease_url, ttl_s, report_file, settings,
            ),
            "security_report": _path(security_report),
            "no_security": no_security,
        },
    )


def gate_all(
    repo: PathLike,
    branch: str,
    holder: Optional[str] = None,
    test: Optional[str] = None,
    land: bool = False,
    *,
    main: str = "main",
    remote: str = "origin",
    test_timeout_s: Optional[int] = None,
    worktree: Optional[PathLike] = None,
    lease_dir: Optional[PathLike] = None,
    lease_url: Optional[str] = None,
    ttl_s: Optional[int] = None,
    max_attempts: Optional[int] = None,
    report_file: Optional[PathLike] = None,
    merge_report_file: Optional[PathLike] = None,
    security_report_file: Optional[PathLike] = None,
    settings: Optional[PathLike] = None,
    config: Optional[PathLike] = None,
    ignore_files: Optional[Sequence[PathLike]] = None,
    dbs: Optional[Sequence[PathLike]] = None,
    audit_exclude: Optional[Sequence[str]] = None,
    ignore_advisories: Optional[Sequence[str]] = None,
) -> Verdict:
    """The whole edge: security gate, merge gate and, with ``land=True``, the fast-forward of
    main to exactly ``tested_sha`` (then the lease is released). Never raises.
    """
    return _run_gate(
        "gate all",
        _portcullis.gate_all,
        {
            **_merge_args(
                repo, branch, holder, test, main, remote, test_timeout_s, worktree,
                lease_dir, lease_url, ttl_s, report_file, settings,
            ),
            "land": land,
            "max_attempts": max_attempts,
            "merge_report": _path(merge_report_file),
            "security_report": _path(security_report_file),
            "config": _path(config),
            "ignore_files": _paths(ignore_files),
            "dbs": _paths(dbs),
            "audit_exclude": list(audit_exclude or []),
            "ignore_advisories": list(ignore_advisories or []),
        },
    )


def read_verdict(path: PathLike, head: Optional[str] = None) -> Verdict:
    """Read any portcullis report's verdict, failing closed. With ``head``, the report must be
    about that commit (full id or a prefix of at least 7 hex digits). Never raises."""
    try:
        out = json.loads(_portcullis.read_verdict_json(os.fspath(path), head))
        return Verdict._from_output(out)
    except Exception as e:  # noqa: BLE001
        return _fail("verdict", f"verdict: {type(e).__name__}: {e}")


@dataclass(frozen=True)
class Finding:
    """A secret found by ``scan_text``. ``secret`` and ``match`` are ``REDACTED`` unless the
    scan was asked to ``reveal`` them."""

    rule_id: str
    description: str
    file: str
    start_line: int
    end_line: int
    start_column: int
    end_column: int
    match: str
    secret: str
    entropy: float
    redacted: bool


def scan_text(
    text: str,
    path: Optional[str] = None,
    config: Optional[PathLike] = None,
    *,
    reveal: bool = False,
) -> List[Finding]:
    """Scan a string with the embedded rules or a gitleaks configuration file.

    Raises ``ValueError`` for an unreadable or invalid configuration.
    """
    raw = json.loads(_portcullis.scan_text(text, path, _path(config), reveal))
    return [Finding(**f) for f in raw]


@dataclass(frozen=True)
class AuditFinding:
    """One vulnerable (or denied informational) package version."""

    id: str
    package: str
    version: str
    lockfile: str
    blocking: bool
    raw: Dict[str, Any]


@dataclass(frozen=True)
class AuditReport:
    """The ``portcullis.audit/v1`` report of ``audit``."""

    status: str
    findings: List[AuditFinding]
    lockfiles: List[Dict[str, Any]]
    warnings: List[str]
    ignored: List[str]
    sources: List[Dict[str, Any]]
    raw: Dict[str, Any]

    @property
    def ok(self) -> bool:
        """No blocking finding and the audit did not error."""
        return self.status != "error" and not any(f.blocking for f in self.findings)


def audit(
    paths: Union[PathLike, Sequence[PathLike]],
    *,
    dbs: Optional[Sequence[PathLike]] = None,
    ignore: Optional[Sequence[str]] = None,
    no_dev: bool = False,
    online: bool = False,
    strict: bool = False,
) -> AuditReport:
    """Audit lockfiles (files or directories searched recursively) against the embedded
    advisory snapshot, or the given advisory databases.

    Raises ``ValueError`` when a lockfile cannot be read or parsed.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    raw = json.loads(
        _portcullis.audit(_paths(paths), _paths(dbs), list(ignore or []), no_dev, online, strict)
    )
    findings = [
        AuditFinding(
            id=str(f.get("id", "")),
            package=str(f.get("package", "")),
            version=str(f.get("version", "")),
            lockfile=str(f.get("lockfile", "")),
            blocking=bool(f.get("blocking", False)),
            raw=f,
        )
        for f in raw.get("findings", [])
    ]
    return AuditReport(
        status=str(raw.get("status", "error")),
        findings=findings,
        lockfiles=list(raw.get("lockfiles", [])),
        warnings=[str(w) for w in raw.get("warnings", [])],
        ignored=[str(i) for i in raw.get("ignored", [])],
        sources=list(raw.get("sources", [])),
        raw=raw,
    )
