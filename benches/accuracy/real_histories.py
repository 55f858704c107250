#!/usr/bin/env python3
"""Distinct findings of portcullis, gitleaks and betterleaks on the full history of real
repositories, and portcullis' blocking findings checked against a hand classification.

    python3 benches/accuracy/real_histories.py --bin target/release/portcullis --peers .peers \
        --out /tmp/real-histories REPO.git [REPO.git ...]

Every tool scans every commit reachable from any ref of each repository with its embedded
default rules (portcullis `scan git REPO`, gitleaks `git REPO`, betterleaks `git REPO`), one run
each, one after the other. A finding is counted once per distinct (rule id, secret) pair.
portcullis findings are split by confidence; those of `medium` and above block in the security
gate's default setting.

Reports are kept in --out. `--no-run` recounts existing reports (e.g. after classifying them),
`--only portcullis` re-runs portcullis alone. With `--classification FILE` (default
testdata/accuracy/real-histories.md) every blocking (rule, file, commit) must have a row in that
file's tables; unclassified ones are listed (rule, file, commit, line: never the secret) and the
exit status is 1. The printed table sums the classes per repository.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RANK = {"low": 0, "medium": 1, "high": 2}
CLASSES = ("real key material", "test fixture", "false positive")


def commands(tool, binary, repo, report):
    if tool == "portcullis":
        return [binary, "scan", "git", repo, "--report-path", report, "--exit-code", "0", "--quiet", "--no-color"]
    if tool == "gitleaks":
        return [binary, "git", repo, "--no-banner", "--exit-code", "0", "--report-format", "json",
                "--report-path", report]
    return [binary, "git", repo, "--no-banner", "--exit-code", "0", "-o", report]


def run(cmd):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PORTCULLIS_CONFIG", "GITLEAKS_CONFIG", "BETTERLEAKS_CONFIG", "BETTERLEAKS_CONFIG_TOML")}
    t0 = time.monotonic()
    p = subprocess.run(["nice"] + cmd, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - t0
    errors = [l for l in p.stderr.splitlines() if "error" in l.lower()]
    # Exit status 2 with a complete report: some inputs could not be read (portcullis fails
    # closed on an unreadable archive); the errors are shown, the report is counted.
    if p.returncode != 0 and not (p.returncode == 2 and os.path.exists(cmd[cmd.index("--report-path") + 1]
                                                                       if "--report-path" in cmd else "")):
        sys.exit(f"{os.path.basename(cmd[0])} failed ({p.returncode}): {p.stderr.strip()[-400:]}")
    for line in errors:
        print(f"  {os.path.basename(cmd[0])} exit {p.returncode}: {line[:200]}", file=sys.stderr)
    return elapsed


def load(tool, report):
    """(rule, secret, confidence, file, commit, line) of every finding of a report."""
    doc = json.load(open(report))
    if tool == "betterleaks":
        out = []
        for f in doc.get("findings") or []:
            loc = f.get("location") or {}
            git = f.get("git") or loc.get("git") or {}
            attrs = f.get("attributes") or {}
            out.append((f.get("rule_id"), (f.get("match") or {}).get("value"), f.get("confidence") or "high",
                        loc.get("path"), git.get("commit") or attrs.get("git.commit") or "", loc.get("start_line", 0)))
        return out
    return [(f["RuleID"], f["Secret"], f.get("Confidence", "high"), f["File"], f.get("Commit", ""), f["StartLine"])
            for f in doc]


def classification(path):
    """{(rule, file, short commit): class} from the Markdown tables of `path`."""
    rows = {}
    if not os.path.exists(path):
        return rows
    for line in open(path, encoding="utf-8"):
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and cells[3] in CLASSES:
            rows[(cells[0], cells[1], cells[2][:7])] = cells[3]
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repos", nargs="+")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "portcullis"))
    ap.add_argument("--peers", default=os.path.join(ROOT, ".peers"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-run", action="store_true", help="recount existing reports")
    ap.add_argument("--only", choices=("portcullis", "gitleaks", "betterleaks"), help="run only this tool")
    ap.add_argument("--classification", default=os.path.join(ROOT, "testdata", "accuracy", "real-histories.md"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    binaries = {"portcullis": a.bin, "gitleaks": os.path.join(a.peers, "gitleaks"),
                "betterleaks": os.path.join(a.peers, "betterleaks")}
    classes = classification(a.classification)
    times_path = os.path.join(a.out, "times.json")
    times = json.load(open(times_path)) if os.path.exists(times_path) else {}
    unclassified = []
    table = []
    for repo in a.repos:
        name = os.path.basename(repo.rstrip("/")).removesuffix(".git")
        commits = int(subprocess.run(["git", "-C", repo, "rev-list", "--all", "--count"], capture_output=True,
                                     text=True, check=True).stdout)
        row = {"repo": name, "commits": commits}
        for tool, binary in binaries.items():
            report = os.path.join(a.out, f"{name}.{tool}.json")
            if not a.no_run and (a.only is None or a.only == tool):
                cmd = commands(tool, binary, repo, report)
                print("$", " ".join(["nice"] + cmd), file=sys.stderr)
                times[f"{name}.{tool}"] = run(cmd)
                json.dump(times, open(times_path, "w"), indent=1)
            if not os.path.exists(report):
                continue
            found = load(tool, report)
            row[tool] = len({(r, s) for r, s, *_ in found})
            row[f"{tool} s"] = times.get(f"{name}.{tool}")
            best = {}
            for r, s, conf, *_ in found:
                best[(r, s)] = max(best.get((r, s), 0), RANK.get(conf, 2))
            by = Counter(best.values())
            if tool == "betterleaks":
                row["betterleaks >=medium"] = by[2] + by[1]
            if tool != "portcullis":
                continue
            row.update(high=by[2], medium=by[1], low=by[0])
            blocking = Counter()
            for r, s, conf, file, commit, line in found:
                if RANK.get(conf, 2) < 1:
                    continue
                c = classes.get((r, file, commit[:7]))
                if c is None:
                    unclassified.append((name, r, file, commit[:7], line))
                else:
                    blocking[c] += 1
            row["blocking findings"] = sum(1 for r, s, conf, *_ in found if RANK.get(conf, 2) >= 1)
            row.update({c: blocking[c] for c in CLASSES})
        table.append(row)
    cols = ["repo", "commits", "portcullis", "high", "medium", "low", "blocking findings", *CLASSES,
            "gitleaks", "betterleaks", "betterleaks >=medium", "portcullis s", "gitleaks s", "betterleaks s"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in table:
        cells = []
        for c in cols:
            v = row.get(c, "")
            cells.append(f"{v:.1f}" if isinstance(v, float) else str(v))
        print("| " + " | ".join(cells) + " |")
    if unclassified:
        print(f"\n{len(unclassified)} blocking findings without a classification row:", file=sys.stderr)
        for name, r, file, commit, line in sorted(set(unclassified)):
            print(f"  {name}: {r} {file}:{line} {commit}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
