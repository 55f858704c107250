#!/usr/bin/env python3
"""Independent OSV evaluation of the Python fixtures (cross-check for portcullis).

Reads the pinned packages of each Python lockfile with the standard library (tomllib, json,
a plain requirements reader), loads PyPA YAML advisories (PyYAML), and decides "affected" with
its own PEP 440 ordering: the version is in the advisory's `versions` list, or inside an
ECOSYSTEM range (introduced/fixed/last_affected/limit events, OSV schema semantics).
Withdrawn advisories are skipped. GIT ranges are ignored (not evaluable offline).

usage: osv_eval.py PYPA_DIR LOCKFILE...   -> JSON {lockfile: [[id, package, version], ...]}
"""
import json, os, re, sys, tomllib
import yaml

VERSION_RE = re.compile(r"""^\s*v?(?:(?P<epoch>[0-9]+)!)?(?P<release>[0-9]+(?:\.[0-9]+)*)
    (?P<pre>[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
    (?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?
    (?P<dev>[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$""", re.VERBOSE | re.IGNORECASE)

INF, NEG = (1, ), (-1, )

def key(v):
    m = VERSION_RE.match(v)
    if not m:
        return None
    rel = [int(x) for x in m.group("release").split(".")]
    while len(rel) > 1 and rel[-1] == 0:
        rel.pop()
    pre = None
    if m.group("pre"):
        l = m.group("pre_l").lower()
        l = {"alpha": "a", "beta": "b", "c": "rc", "pre": "rc", "preview": "rc"}.get(l, l)
        pre = ({"a": 0, "b": 1, "rc": 2}[l], int(m.group("pre_n") or 0))
    post = None
    if m.group("post"):
        post = int(m.group("post_n1") or m.group("post_n2") or 0)
    dev = int(m.group("dev_n") or 0) if m.group("dev") else None
    # ordering: dev-only releases sort before pre-releases
    if pre is None and post is None and dev is not None:
        pre_k = (-1, 0)
    elif pre is None:
        pre_k = (9, 0)
    else:
        pre_k = pre
    post_k = (-1,) if post is None else (post,)
    dev_k = (float("inf"),) if dev is None else (dev,)
    local = m.group("local")
    local_k = () if local is None else tuple(
        (1, int(p), "") if p.isdigit() else (0, 0, p.lower()) for p in re.split(r"[-_.]", local))
    return (int(m.group("epoch") or 0), tuple(rel), pre_k, post_k, dev_k, (0 if local is None else 1, local_k))

def norm(n):
    return re.sub(r"[-_.]+", "-", n).lower()

def in_range(events, v):
    vk = key(v)
    if vk is None:
        return False
    limits = [key(e["limit"]) for e in events if "limit" in e and e["limit"] != "*"]
    if limits and not any(vk < l for l in limits if l is not None):
        return False
    evs = []
    for e in events:
        for k, val in e.items():
            if k == "limit":
                continue
            val = str(val)
            ek = (-1,) if (k == "introduced" and val == "0") else key(val)
            if ek is None:
                continue
            evs.append((ek, k))
    evs.sort(key=lambda x: (0, ()) if x[0] == (-1,) else (1, x[0]))
    affected = False
    for ek, k in evs:
        if k == "introduced" and (ek == (-1,) or ek <= vk):
            affected = True
        elif k == "fixed" and ek <= vk:
            affected = False
        elif k == "last_affected" and ek < vk:
            affected = False
    return affected

def affected(adv, name, version):
    for a in adv.get("affected", []):
        p = a.get("package", {})
        if p.get("ecosystem") != "PyPI" or norm(p.get("name", "")) != name:
            continue
        vs = [str(x) for x in a.get("versions", []) or []]
        if version in vs or any(key(x) == key(version) for x in vs if key(x) is not None and key(version) is not None):
            return True
        for r in a.get("ranges", []) or []:
            if r.get("type") == "ECOSYSTEM" and in_range(r.get("events", []), version):
                return True
    return False

def packages(path):
    base = os.path.basename(path)
    out = set()
    if base.endswith(".txt"):
        text = open(path).read().replace("\\\n", " ")
        for line in text.splitlines():
            line = line.split(" #")[0].strip()
            m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*===?\s*([^\s;]+)", line)
            if m:
                out.add((m.group(1), m.group(3)))
    elif base == "Pipfile.lock":
        j = json.load(open(path))
        for sec in ("default", "develop"):
            for n, e in j.get(sec, {}).items():
                if "version" in e:
                    out.add((n, e["version"].lstrip("=")))
    else:
        t = tomllib.load(open(path, "rb"))
        for p in t.get("package", []) + t.get("packages", []):
            src = p.get("source")
            if isinstance(src, dict) and not ("registry" in src):
                continue
            if isinstance(src, dict) is False and src is not None and src.get("type") not in (None, "legacy"):
                continue
            if "version" in p:
                out.add((p["name"], p["version"]))
    return out

def main():
    pypa, locks = sys.argv[1], sys.argv[2:]
    vulns = os.path.join(pypa, "vulns")
    result = {}
    for lock in locks:
        found = set()
        for name, version in packages(lock):
            for d in os.listdir(vulns):
                if norm(d) != norm(name):
                    continue
                for f in sorted(os.listdir(os.path.join(vulns, d))):
                    if not f.endswith(".yaml"):
                        continue
                    adv = yaml.safe_load(open(os.path.join(vulns, d, f)))
                    if adv.get("withdrawn"):
                        continue
                    if affected(adv, norm(name), version):
                        found.add((adv["id"], name, version))
        result[lock] = sorted(list(x) for x in found)
    json.dump(result, sys.stdout, indent=1)

if __name__ == "__main__":
    main()
