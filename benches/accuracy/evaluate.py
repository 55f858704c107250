#!/usr/bin/env python3
"""Per-category recall, precision and F1 of portcullis, gitleaks and betterleaks on labelled
corpora: the corpus of testdata/accuracy/make_corpus.py (`--corpus default`, the default) and
the held-out corpus of testdata/accuracy/heldout/make_heldout.py, written without reference to
the rules (`--corpus heldout`); `--corpus all` evaluates both.

    python3 benches/accuracy/evaluate.py [--corpus default|heldout|all] [--bin target/release/portcullis] [--peers .peers]

The corpus is written into a fresh temporary directory and every scanner scans the same
`corpus` directory with its embedded default rules. A finding is a true positive when the lines
it spans overlap a labelled secret (a path-only finding: when its file holds one) (several findings of one secret count once), otherwise a
false positive, attributed to the hard-negative category of its line, or to `unlabelled`.
Scanners that grade findings are also scored on their findings of `medium` confidence and
above ("blocking", the portcullis security gate's default threshold).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RANK = {"low": 0, "medium": 1, "high": 2}


def run(cmd, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ("PORTCULLIS_CONFIG", "GITLEAKS_CONFIG", "BETTERLEAKS_CONFIG")}
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} failed ({p.returncode}): {p.stderr.strip()[-400:]}")


def norm(path):
    path = path.replace("\\", "/")
    return path[len("corpus/"):] if path.startswith("corpus/") else path


def portcullis(binary, work):
    out = os.path.join(work, "portcullis.json")
    run([binary, "scan", "dir", "corpus", "-r", out, "-q", "--no-color"], work)
    return [(norm(f["File"]), f["StartLine"], f["EndLine"], f["RuleID"], f.get("Confidence", "high"))
            for f in json.load(open(out))]


def gitleaks(binary, work):
    out = os.path.join(work, "gitleaks.json")
    run([binary, "dir", "corpus", "-r", out, "-f", "json", "--no-banner", "--exit-code", "0"], work)
    return [(norm(f["File"]), f["StartLine"], f["EndLine"], f["RuleID"], "high") for f in json.load(open(out))]


def betterleaks(binary, work):
    out = os.path.join(work, "betterleaks.json")
    run([binary, "corpus", "-o", out, "--no-banner", "--exit-code", "0"], work)
    doc = json.load(open(out))
    return [(norm(f["location"]["path"]), f["location"]["start_line"], f["location"].get("end_line", 0), f["rule_id"],
             f.get("confidence") or "high") for f in doc["findings"]]


def score(findings, labels):
    pos = [x for x in labels if x["kind"] == "pos"]
    negs = [x for x in labels if x["kind"] == "neg"]

    def neg_category(file, line):
        # A hard negative may span lines (a certificate block); the finding's first line decides.
        for x in negs:
            if x["file"] == file and x["line"] <= line <= x.get("end", x["line"]):
                return x["category"]
        return "unlabelled"
    found = set()
    fp = defaultdict(int)
    for file, line, end, _rule, _conf in findings:
        end = max(end, line)
        # A finding covers the lines it spans; a path-only finding (line 0) covers its file.
        hit = [i for i, p in enumerate(pos)
               if p["file"] == file and (line == 0 or (line <= p["end"] and p["line"] <= end))]
        if hit:
            found.update(hit)
        else:
            fp[neg_category(file, line)] += 1
    tp = defaultdict(int)
    total = defaultdict(int)
    for i, p in enumerate(pos):
        total[p["category"]] += 1
        if i in found:
            tp[p["category"]] += 1
    return tp, total, fp


def prf(tp, n, fp):
    r = tp / n if n else 0.0
    p = tp / (tp + fp) if tp + fp else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


GENERATORS = {
    "default": os.path.join(ROOT, "testdata", "accuracy", "make_corpus.py"),
    "heldout": os.path.join(ROOT, "testdata", "accuracy", "heldout", "make_heldout.py"),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "portcullis"))
    ap.add_argument("--peers", default=os.path.join(ROOT, ".peers"))
    ap.add_argument("--corpus", choices=["default", "heldout", "all"], default="default",
                    help="which labelled corpus to evaluate (default: the corpus written with the rules)")
    ap.add_argument("--seed", type=int, help="seed of the held-out corpus' values (default: the generator's fixed seed)")
    ap.add_argument("--keep", help="write the corpus and reports here instead of a temporary directory")
    a = ap.parse_args()
    corpora = ["default", "heldout"] if a.corpus == "all" else [a.corpus]
    for name in corpora:
        if len(corpora) > 1:
            print(f"===== corpus: {name} =====\n")
        keep = os.path.join(a.keep, name) if a.keep and len(corpora) > 1 else a.keep
        evaluate(name, a.bin, a.peers, keep, a.seed)
        if len(corpora) > 1:
            print()


def run_scanners(binary, peers, work):
    results = {}
    p = portcullis(os.path.abspath(binary), work)
    results["portcullis (all)"] = p
    results["portcullis (>=medium)"] = [f for f in p if RANK.get(f[4], 2) >= 1]
    gl = os.path.join(peers, "gitleaks")
    if os.access(gl, os.X_OK):
        results["gitleaks 8.30.1"] = gitleaks(gl, work)
    bl = os.path.join(peers, "betterleaks")
    if os.access(bl, os.X_OK):
        b = betterleaks(bl, work)
        results["betterleaks (all)"] = b
        results["betterleaks (>=medium)"] = [f for f in b if RANK.get(f[4], 2) >= 1]
    return results


def report_heldout(results, labels):
    """Per-category recall, precision and F1: a false positive counts against the category of
    the hard-negative line it falls on (hard negatives carry the category they are a near miss
    of), or against `unlabelled`."""
    names = list(results)
    scored = {n: score(results[n], labels) for n in names}
    whats = defaultdict(int)
    for x in labels:
        if x["kind"] == "neg":
            whats[x.get("what", x["category"])] += 1
    print(f"held-out corpus: {len({x['file'] for x in labels})} labelled files, "
          f"{sum(x['kind'] == 'pos' for x in labels)} secrets, {sum(x['kind'] == 'neg' for x in labels)} hard-negative lines\n")
    cats = sorted({x["category"] for x in labels} | {"unlabelled"})
    w = 20
    print("Per category: recall / precision / F1 (TP found, FP reported):")
    print("  " + "category".ljust(18) + "  n" + "".join(n.rjust(w + 4) for n in names))
    for c in cats:
        n_pos = sum(1 for x in labels if x["kind"] == "pos" and x["category"] == c)
        row = ""
        for n in names:
            tp, total, fp = scored[n]
            if n_pos:
                pr, rc, f1 = prf(tp[c], n_pos, fp[c])
                cell = f"{rc:.2f}/{pr:.2f}/{f1:.2f} {tp[c]:2d}+{fp[c]}"
            else:
                cell = f"FP {fp[c]}"
            row += cell.rjust(w + 4)
        print("  " + c.ljust(18) + f"{n_pos:3d}" + row)
    # False positives by the kind of hard negative.
    negs = [x for x in labels if x["kind"] == "neg"]

    def neg_what(file, line):
        for x in negs:
            if x["file"] == file and x["line"] <= line <= x.get("end", x["line"]):
                return x.get("what", x["category"])
        return "unlabelled"
    pos_spans = [(x["file"], x["line"], x["end"]) for x in labels if x["kind"] == "pos"]
    print("\nFalse positives per kind of hard negative (lines of that kind):")
    fpw = {}
    for n in names:
        d = defaultdict(int)
        for file, line, end, _r, _c in results[n]:
            end = max(end, line)
            if any(f == file and (line == 0 or (line <= e and s <= end)) for f, s, e in pos_spans):
                continue
            d[neg_what(file, line)] += 1
        fpw[n] = d
    kinds = sorted(set(whats) | {k for d in fpw.values() for k in d})
    print("  " + "kind".ljust(22) + "".join(n.rjust(w + 4) for n in names))
    for k in kinds:
        print("  " + f"{k} ({whats.get(k, '-')})".ljust(22) + "".join(str(fpw[n][k]).rjust(w + 4) for n in names))
    print("\nOverall:")
    wn = max(len(n) for n in names)
    print("  " + "scanner".ljust(wn) + "  findings  TP  FP  precision  recall     F1")
    for n in names:
        tp, total, fp = scored[n]
        t = sum(tp.values())
        N = sum(total.values())
        F = sum(fp.values())
        pr, rc, f1 = prf(t, N, F)
        print(f"  {n.ljust(wn)}  {len(results[n]):8d} {t:3d} {F:3d}  {pr:9.3f}  {rc:6.3f}  {f1:5.3f}")


def evaluate(corpus, binary, peers, keep, seed=None):
    work = keep or tempfile.mkdtemp(prefix="portcullis-accuracy-")
    if keep:
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
    extra = ["--seed", str(seed)] if seed is not None and corpus == "heldout" else []
    subprocess.run([sys.executable, GENERATORS[corpus], work] + extra, check=True)
    labels = json.load(open(os.path.join(work, "labels.json")))
    if corpus == "heldout":
        report_heldout(run_scanners(binary, peers, work), labels)
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
        return
    results = run_scanners(binary, peers, work)
    names = list(results)
    scored = {n: score(results[n], labels) for n in names}
    cats = sorted({x["category"] for x in labels if x["kind"] == "pos"})
    negcats = sorted({x["category"] for x in labels if x["kind"] == "neg"} | {"unlabelled"})
    print(f"corpus: {len({x['file'] for x in labels})} labelled files, {sum(x['kind'] == 'pos' for x in labels)} secrets, "
          f"{sum(x['kind'] == 'neg' for x in labels)} hard-negative lines\n")
    print("Recall per secret category (found / secrets):")
    w = max(len(n) for n in names)
    print("  " + "category".ljust(20) + "".join(n.rjust(w + 2) for n in names))
    for c in cats:
        row = ""
        for n in names:
            tp, total, _ = scored[n]
            row += f"{tp[c]}/{total[c]}".rjust(w + 2)
        print("  " + c.ljust(20) + row)
    print("\nFalse positives per hard-negative category:")
    print("  " + "category".ljust(20) + "".join(n.rjust(w + 2) for n in names))
    for c in negcats:
        print("  " + c.ljust(20) + "".join(str(scored[n][2][c]).rjust(w + 2) for n in names))
    print("\nOverall:")
    print("  " + "scanner".ljust(w) + "  findings  TP  FP  precision  recall     F1")
    for n in names:
        tp, total, fp = scored[n]
        t = sum(tp.values())
        N = sum(total.values())
        F = sum(fp.values())
        pr, rc, f1 = prf(t, N, F)
        print(f"  {n.ljust(w)}  {len(results[n]):8d} {t:3d} {F:3d}  {pr:9.3f}  {rc:6.3f}  {f1:5.3f}")
    if not keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
