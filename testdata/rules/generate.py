#!/usr/bin/env python3
"""Generate portcullis' default ruleset and its examples.

This script is the single source of truth for `rules/default.toml` and for the example files
`testdata/rules/<rule-id>.toml`. Run it from the repository root:

    python3 testdata/rules/generate.py

Every regex below was written for portcullis from the providers' documented token formats.
Example tokens are FAKE: random characters drawn from a seeded generator (the seed is derived
from the rule id, so adding a rule never changes another rule's examples).

Template syntax inside examples: `%<charset><length>%` expands to random characters, e.g.
`%X36%` = 36 alphanumerics; `%uuid%` = a random lowercase UUID. Charsets:
`%der%` = base64 lines of a DER SEQUENCE (a key-shaped PEM body); `%basic%` = base64 of
`user:password`; `%crc%` = 30 alphanumerics + their base62 CRC32 (a valid GitHub / npm token body).
X=A-Za-z0-9  a=a-z0-9  A=A-Z0-9  h=0-9a-f  H=0-9A-F  d=0-9  l=a-z  L=a-zA-Z  U=A-Z
b=A-Za-z0-9+/  u=A-Za-z0-9_-  w=A-Za-z0-9_  B=A-Z2-7 (base32)  c=bech32 (upper case)
P=password characters (alphanumerics and !*+-.=^_~)
"""

import hashlib
import json
import tomllib
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ruledefs import GLOBAL_ALLOWLISTS, RULES, SECTIONS  # noqa: E402

CHARSETS = {
    "X": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "a": "abcdefghijklmnopqrstuvwxyz0123456789",
    "A": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "h": "0123456789abcdef",
    "H": "0123456789ABCDEF",
    "d": "0123456789",
    "l": "abcdefghijklmnopqrstuvwxyz",
    "L": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "U": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "b": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    "u": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
    "w": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_",
    "B": "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
    "P": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-.=^_~",
    "c": "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
}

TEMPLATE = re.compile(r"%(uuid|crc|der|basic|[A-Za-z]\d+)%")
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def with_crc(random_part: str) -> str:
    """GitHub / npm classic token body: 30 base62 characters + base62 CRC32 of them (6 chars)."""
    import zlib

    v = zlib.crc32(random_part.encode())
    out = ""
    for _ in range(6):
        out = BASE62[v % 62] + out
        v //= 62
    return random_part + out


def expand(template: str, rng: random.Random) -> str:
    def one(m: re.Match) -> str:
        spec = m.group(1)
        if spec == "der":
            import base64

            body = bytes([0x30, 0x82, 0x01, 0x3B]) + bytes(rng.randrange(256) for _ in range(0x13B))
            b = base64.b64encode(body).decode()
            return "\n".join(b[i : i + 64] for i in range(0, len(b), 64))
        if spec == "basic":
            import base64

            user = "svc-" + "".join(rng.choice(CHARSETS["l"]) for _ in range(6))
            pw = "".join(rng.choice(CHARSETS["X"]) for _ in range(12)) + str(rng.randrange(10))
            return base64.b64encode(f"{user}:{pw}".encode()).decode()
        if spec == "crc":
            return with_crc("".join(rng.choice(CHARSETS["X"]) for _ in range(30)))
        if spec == "uuid":
            h = "".join(rng.choice(CHARSETS["h"]) for _ in range(32))
            return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
        cs = CHARSETS[spec[0]]
        n = int(spec[1:])
        out = [rng.choice(cs) for _ in range(n)]
        # Random tokens look random: make sure long ones mix in a digit, as real ones do.
        if n >= 8 and spec[0] in "XAaHhuwbP" and not any(c.isdigit() for c in out):
            out[n // 2] = rng.choice("0123456789")
        return "".join(out)

    return TEMPLATE.sub(one, template)


def toml_lit(s: str) -> str:
    assert "'''" not in s and not s.endswith("'"), s
    return "'''" + s + "'''"


def toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=True)


def toml_list(items, lit=False) -> str:
    conv = toml_lit if lit else toml_str
    return "[" + ", ".join(conv(i) for i in items) + "]"


def emit_allowlist(lines, header, al):
    lines.append(header)
    if al.get("description"):
        lines.append(f"description = {toml_str(al['description'])}")
    if al.get("condition"):
        lines.append(f"condition = {toml_str(al['condition'])}")
    if al.get("regexTarget"):
        lines.append(f"regexTarget = {toml_str(al['regexTarget'])}")
    for key in ("paths", "regexes"):
        if al.get(key):
            lines.append(f"{key} = [")
            for p in al[key]:
                lines.append(f"    {toml_lit(p)},")
            lines.append("]")
    if al.get("stopwords"):
        lines.append(f"stopwords = {toml_list(al['stopwords'])}")


def render_config() -> str:
    out = [
        "# portcullis default ruleset (gitleaks v8 configuration format).",
        "#",
        "# GENERATED by testdata/rules/generate.py from testdata/rules/ruledefs.py; edit those and",
        "# re-run `python3 testdata/rules/generate.py`. Every regex was written for portcullis from",
        "# the providers' documented token formats. Rule ids follow gitleaks' ids wherever gitleaks",
        "# has a rule for the same token, so existing .gitleaksignore files and baselines keep working.",
        "#",
        "# Performance contract with the engine: every rule that has a regex has keywords, every",
        "# possible match of the regex contains one of them (case-insensitively), and matches have a",
        "# bounded length (private-key blocks excepted). Alternatives are written as separate capture",
        "# groups, `(?:(ghu_)|(ghs_))`, so that regex-syntax does not factor a common prefix out of",
        "# them and the keywords stay visible to the engine's analysis; secretGroup names the group",
        "# that holds the secret.",
        "#",
        "# portcullis extensions (ignored by gitleaks): `confidence` (high when absent) is the",
        "# confidence of the rule's findings; `verify` names a structural check of the secret, and a",
        "# secret that fails it is reported with `low` confidence.",
        "",
        'title = "portcullis default ruleset"',
        "",
    ]
    for al in GLOBAL_ALLOWLISTS:
        emit_allowlist(out, "[[allowlists]]", al)
        out.append("")
    section = None
    for r in RULES:
        if r["section"] != section:
            section = r["section"]
            out.append("# " + "-" * 94)
            out.append(f"# {SECTIONS[section]}")
            out.append("# " + "-" * 94)
            out.append("")
        out.append("[[rules]]")
        out.append(f"id = {toml_str(r['id'])}")
        out.append(f"description = {toml_str(r['description'])}")
        if r.get("regex"):
            out.append(f"regex = {toml_lit(r['regex'])}")
        if r.get("path"):
            out.append(f"path = {toml_lit(r['path'])}")
        if r.get("secretGroup"):
            out.append(f"secretGroup = {r['secretGroup']}")
        if r.get("entropy"):
            out.append(f"entropy = {r['entropy']}")
        if r.get("keywords"):
            out.append(f"keywords = {toml_list(r['keywords'])}")
        out.append(f"tags = {toml_list(r['tags'])}")
        if r.get("confidence"):
            out.append(f"confidence = {toml_str(r['confidence'])}")
        if r.get("verify"):
            out.append(f"verify = {toml_str(r['verify'])}")
        for al in r.get("allowlists", []):
            emit_allowlist(out, "[[rules.allowlists]]", al)
        out.append("")
    return "\n".join(out)


def render_examples(r) -> str:
    seed = int.from_bytes(hashlib.sha256(r["id"].encode()).digest()[:8], "big")
    rng = random.Random(seed)
    lines = [
        f"# Examples for rule {r['id']!r} ({r['description']}).",
        "# GENERATED by testdata/rules/generate.py; all tokens are fake (seeded random characters).",
        f"id = {toml_str(r['id'])}",
    ]
    if r.get("example_path") is not None:
        lines.append(f"path = {toml_str(r['example_path'])}")
    lines.append(f"confidence = {toml_str(r.get('confidence') or 'high')}")
    for key in ("tp", "tp_low", "fp", "tp_paths", "fp_paths"):
        vals = [expand(t, rng) for t in r.get(key, [])]
        if vals or key in ("tp", "fp"):
            lines.append(f"{key} = [")
            for v in vals:
                lines.append(f"    {toml_str(v)},")
            lines.append("]")
    return "\n".join(lines) + "\n"


def main() -> None:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ids = [r["id"] for r in RULES]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        sys.exit(f"duplicate rule ids: {sorted(dup)}")
    config = render_config()
    with open(os.path.join(root, "rules", "default.toml"), "w") as f:
        f.write(config)
    # The same tables as JSON: what the binary parses at start-up (JSON parses several times
    # faster than TOML). A unit test checks that both files give the same configuration.
    with open(os.path.join(root, "rules", "default.json"), "w") as f:
        json.dump(tomllib.loads(config), f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")
    exdir = os.path.join(root, "testdata", "rules")
    keep = {"README.md", "generate.py", "ruledefs.py", "check.py"}
    for name in os.listdir(exdir):
        if name.endswith(".toml") and name not in keep:
            os.remove(os.path.join(exdir, name))
    for r in RULES:
        with open(os.path.join(exdir, r["id"] + ".toml"), "w") as f:
            f.write(render_examples(r))
    print(f"{len(RULES)} rules written")


if __name__ == "__main__":
    main()
