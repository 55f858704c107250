#!/usr/bin/env python3
"""Runs gitleaks 8.30.1 and portcullis with rules/default.toml over the rule examples.

Usage: python3 testdata/gitleaks-diff/default-rules.py GITLEAKS PORTCULLIS [WORKDIR] [--mutate]

Each example of testdata/rules/<id>.toml becomes a file WORKDIR/ex/<id>/tp<N>.txt (or fp<N>.txt);
each example path becomes an empty-ish file under WORKDIR/ex/<id>/paths/. Both tools scan
WORKDIR/ex with --config rules/default.toml; findings are compared as multisets of
(File, RuleID, StartLine, EndLine, StartColumn, EndColumn, Secret, Match, Fingerprint) and the
differences are printed. Exit status 0 even when they differ (this is a report, not a gate).
With --mutate, every example is also written in 15 variants (prefix/suffix characters, JSON,
base64, hex, percent-encoding, upper/lower case, CRLF, tabs, split over two lines, doubled,
surrounded by non-ASCII letters, `_` -> `-`), one file per rule.
"""
import base64, collections, json, os, subprocess, sys, tempfile, tomllib

root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
mutate = "--mutate" in sys.argv
argv = [a for a in sys.argv if a != "--mutate"]
gitleaks, portcullis = argv[1], argv[2]
work = argv[3] if len(argv) > 3 else tempfile.mkdtemp()
VARIANTS = [
    lambda s: "x" + s, lambda s: s + "x", lambda s: '{"k": "%s"}' % s.replace('"', '\\"'),
    lambda s: base64.b64encode(s.encode()).decode(), lambda s: s.upper(), lambda s: s.lower(),
    lambda s: "line one\r\n" + s + "\r\n", lambda s: s.replace(" ", "\t"),
    lambda s: s.replace("=", ": "), lambda s: s[: len(s) // 2] + "\n" + s[len(s) // 2 :],
    lambda s: s + s, lambda s: "".join("%%%02x" % b for b in s.encode()),
    lambda s: s.encode().hex(), lambda s: "\u00e9" + s + "\u00fc", lambda s: s.replace("_", "-"),
]
ex = os.path.join(work, "ex")
rules_dir = os.path.join(root, "testdata", "rules")
for name in sorted(os.listdir(rules_dir)):
    if not name.endswith(".toml"):
        continue
    d = tomllib.load(open(os.path.join(rules_dir, name), "rb"))
    rid = d["id"]
    for kind in ("tp", "fp"):
        for i, text in enumerate(d.get(kind, [])):
            p = os.path.join(ex, rid, f"{kind}{i}.txt")
            os.makedirs(os.path.dirname(p), exist_ok=True)
            open(p, "w").write(text + "\n")
        if mutate:
            p = os.path.join(ex, rid, f"{kind}-mutated.txt")
            os.makedirs(os.path.dirname(p), exist_ok=True)
            texts = [v(t) for t in d.get(kind, []) for v in VARIANTS]
            open(p, "w", newline="").write("\n\n".join(texts) + "\n")
        for i, path in enumerate(d.get(kind + "_paths", [])):
            p = os.path.join(ex, rid, "paths", kind, path)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            open(p, "w").write("x\n")
cfg = os.path.join(root, "rules", "default.toml")

def run(cmd, out):
    r = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} failed ({r.returncode}): {r.stderr[-2000:]}")
    return json.load(open(out))

g = run([gitleaks, "dir", "ex", "--config", cfg, "--report-format", "json", "--report-path",
         os.path.join(work, "g.json"), "--no-banner", "--log-level", "error"], os.path.join(work, "g.json"))
p = run([portcullis, "scan", "dir", "ex", "--config", cfg, "--report-format", "json", "--report-path",
         os.path.join(work, "p.json"), "-q"], os.path.join(work, "p.json"))
key = lambda f: (f["File"], f["RuleID"], f["StartLine"], f["EndLine"], f["StartColumn"], f["EndColumn"],
                 f["Secret"], f["Match"], f["Fingerprint"])
gc, pc = collections.Counter(map(key, g)), collections.Counter(map(key, p))
agree = sum((gc & pc).values())
print(f"gitleaks findings: {len(g)}, portcullis findings: {len(p)}, agreeing: {agree}")
for label, c in (("only gitleaks", gc - pc), ("only portcullis", pc - gc)):
    print(f"{label}: {sum(c.values())}")
    for k in sorted(c):
        print("  ", k[0], k[1], f"L{k[2]}-{k[3]} C{k[4]}-{k[5]}", repr(k[6])[:80], repr(k[7])[:100])
