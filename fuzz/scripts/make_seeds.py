#!/usr/bin/env python3
"""Writes the seed corpora of the archive_read, lockfile_parse and frontmatter_read fuzz
targets into fuzz/corpus/<target>/ (run from the repository root; deterministic output).

archive_read seeds are one selector byte (file name and limits, see fuzz/src/archive_read.rs)
followed by an archive built here with the standard library. lockfile_parse seeds are one
format byte (see fuzz/src/lockfile_parse.rs) followed by a lockfile: the head of each real
lockfile in testdata/audit/ plus small files for the formats without one there.
frontmatter_read seeds are the report files of testdata/reports/ plus merge and gate-all
reports written here. The pack-level seeds (inflate, delta_apply, pack_entry_header,
tree_entries) come from a small repository built here with git and repacked with deltas:
its entries' zlib streams, deltas with their bases, entry headers and tree objects, plus
hand-made edge cases.
"""

import gzip
import io
import json
import os
import shutil
import struct
import subprocess
import tarfile
import tempfile
import zipfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
FIXED_TIME = (2020, 1, 1, 0, 0, 0)

SECRET = b"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
TEXT = b"hello\n" + SECRET + b"password=hunter2\n"


def out_dir(target):
    d = os.path.join(CORPUS, target)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    return d


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- archive_read

NAMES = ["", "a.zip", "a.tar", "a.gz", "a.tar.gz", "a.TGZ", "a.jar", "a.txt"]
CAPS = [None, 0, 100, 64 * 1024]
TOTALS = [4 << 20, 1 << 20, 1000, 1]


def sel(name="", cap=None, total=4 << 20):
    return bytes(
        [NAMES.index(name) + 8 * CAPS.index(cap) + 32 * TOTALS.index(total)]
    )


def make_zip(members, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = method
            if name.endswith("/"):
                info.external_attr = 0o40755 << 16 | 0x10
            z.writestr(info, data)
    return buf.getvalue()


def make_tar(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1577836800
            if data is None:
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            elif isinstance(data, str):
                info.type = tarfile.SYMTYPE
                info.linkname = data
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_gz(data):
    return gzip.compress(data, compresslevel=6, mtime=0)


def encrypted_flag(z):
    """Set the 'encrypted' bit in every local and central header of a zip."""
    b = bytearray(z)
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = b.find(sig)
        while i >= 0:
            b[i + off] |= 1
            i = b.find(sig, i + 4)
    return bytes(b)


def archive_seeds():
    d = out_dir("archive_read")
    plain_zip = make_zip([("a.txt", TEXT), ("dir/", b""), ("dir/b.env", SECRET)])
    stored_zip = make_zip([("s.txt", TEXT)], zipfile.ZIP_STORED)
    tar = make_tar(
        [("top.txt", TEXT), ("d", None), ("d/link", "../top.txt"), ("./d/../x.cfg", SECRET)]
    )
    inner_zip = make_zip([("inner.txt", SECRET)])
    seeds = {
        "zip-deflated": sel("a.zip") + plain_zip,
        "zip-stored-by-signature": sel("") + stored_zip,
        "zip-nested-zip": sel("a.jar") + make_zip([("lib/inner.zip", inner_zip)]),
        "zip-in-zip-in-zip": sel("")
        + make_zip([("x.zip", make_zip([("y.zip", inner_zip)]))]),
        "zip-tar-gz-member": sel("")
        + make_zip([("t.tar.gz", make_gz(tar)), ("n.gz", make_gz(TEXT))]),
        "zip-encrypted-flag": sel("a.zip") + encrypted_flag(plain_zip),
        "zip-member-over-cap": sel("a.zip", cap=100) + make_zip([("big.txt", TEXT * 20)]),
        "zip-member-cap-zero": sel("a.zip", cap=0) + plain_zip,
        "zip-truncated": sel("a.zip") + plain_zip[: len(plain_zip) // 2],
        "zip-empty": sel("a.zip") + make_zip([]),
        "zip-dotdot-names": sel("")
        + make_zip([("../../etc/x", TEXT), ("/abs/y", SECRET), ("a//b/./c", TEXT)]),
        "tar-ustar": sel("a.tar") + tar,
        "tar-by-name-only": sel("a.tar") + tar[:200],
        "tar-with-zip-member": sel("") + make_tar([("z.zip", plain_zip)]),
        "tgz-by-name": sel("a.tar.gz") + make_gz(tar),
        "tgz-upper-name": sel("a.TGZ") + make_gz(tar),
        "gz-of-tar-by-signature": sel("a.gz") + make_gz(tar),
        "gz-single-file": sel("a.gz") + make_gz(TEXT),
        "gz-multi-member": sel("") + make_gz(TEXT) + make_gz(SECRET),
        "gz-of-zip": sel("a.gz") + make_gz(plain_zip),
        "gz-truncated": sel("a.gz") + make_gz(TEXT * 4)[:-9],
        "gz-bomb-over-total": sel("a.gz", total=1 << 20) + make_gz(bytes(2 << 20)),
        "gz-over-tiny-total": sel("", total=1000) + make_gz(TEXT * 200),
        "zip-bomb-over-total": sel("a.zip", total=1 << 20)
        + make_zip([("zeros", bytes(2 << 20))]),
        "not-an-archive": sel("a.txt") + TEXT,
        "zip-name-not-zip": sel("a.zip") + TEXT,
    }
    for name, data in seeds.items():
        write(d, name, data)
    return len(seeds)


# ---------------------------------------------------------------- lockfile_parse

FORMATS = [
    "Cargo.lock",
    "requirements.txt",
    "poetry.lock",
    "Pipfile.lock",
    "pdm.lock",
    "uv.lock",
    "pylock.toml",
    "package-lock.json",
    "go.sum",
    "go.mod",
]


def fmt(name):
    return bytes([FORMATS.index(name)])


def toml_head(path, table, keep):
    """The text before the first `[[table]]` plus the first `keep` entries."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    parts = text.split("\n[[%s]]\n" % table)
    return ("\n[[%s]]\n" % table).join(parts[: keep + 1]) + "\n"


def lockfile_seeds():
    d = out_dir("lockfile_parse")
    audit = os.path.join(ROOT, "testdata", "audit")
    seeds = {}
    for proj in sorted(os.listdir(os.path.join(audit, "rust"))):
        seeds["cargo-" + proj] = fmt("Cargo.lock") + toml_head(
            os.path.join(audit, "rust", proj, "Cargo.lock"), "package", 4
        ).encode()
    py = os.path.join(audit, "python")
    seeds["poetry-1.5.0"] = fmt("poetry.lock") + toml_head(
        os.path.join(py, "poetry-1.5.0", "poetry.lock"), "package", 3
    ).encode()
    seeds["pdm-2.0.0"] = fmt("pdm.lock") + toml_head(
        os.path.join(py, "pdm-2.0.0", "pdm.lock"), "package", 4
    ).encode()
    seeds["uv-flask"] = fmt("uv.lock") + toml_head(
        os.path.join(py, "flask-2025-05-11", "uv.lock"), "package", 3
    ).encode()
    with open(os.path.join(py, "pipenv-2022.1.8", "Pipfile.lock"), encoding="utf-8") as f:
        pipfile = json.load(f)
    for group in ("default", "develop"):
        pipfile[group] = dict(list(pipfile[group].items())[:3])
    seeds["pipfile-2022.1.8"] = fmt("Pipfile.lock") + json.dumps(pipfile, indent=4).encode()
    with open(os.path.join(py, "warehouse-2020-06-09", "requirements.txt"), encoding="utf-8") as f:
        seeds["requirements-warehouse"] = fmt("requirements.txt") + "".join(
            f.readlines()[:24]
        ).encode()
    small = {
        "cargo-v1-metadata": (
            "Cargo.lock",
            '[[package]]\nname = "a"\nversion = "0.1.0"\ndependencies = [\n "b 1.0.0 '
            '(registry+https://github.com/rust-lang/crates.io-index)",\n]\n\n[[package]]\n'
            'name = "b"\nversion = "1.0.0"\nsource = "registry+https://github.com/rust-lang/'
            'crates.io-index"\n\n[metadata]\n"checksum b 1.0.0 (registry+https://github.com/'
            'rust-lang/crates.io-index)" = "00ff"\n',
        ),
        "cargo-v4-git-sparse": (
            "Cargo.lock",
            'version = 4\n\n[[package]]\nname = "g"\nversion = "0.2.0"\nsource = "git+https://'
            'example.com/g.git#0123456789abcdef0123456789abcdef01234567"\n\n[[package]]\nname '
            '= "s"\nversion = "1.2.3"\nsource = "sparse+https://index.crates.io/"\nchecksum = '
            '"ab"\n\n[[package]]\nname = "o"\nversion = "0.0.1"\nsource = "registry+https://'
            'example.com/index"\n',
        ),
        "requirements-options": (
            "requirements.txt",
            "# comment\n-i https://pypi.org/simple\n--hash=sha256:00\nrequests[socks]==2.31.0 "
            "; python_version >= '3.8' \\\n    --hash=sha256:ab\n-e git+https://example.com/x"
            ".git#egg=x\nflask>=2\n./local/pkg\nDjango===4.2.1  # pinned\n-c constraints.txt\n",
        ),
        "requirements-include": (
            "requirements.txt",
            "-r base.txt\n--requirement=dev/extra.txt\nurllib3==1.26.0\n",
        ),
        "poetry-groups": (
            "poetry.lock",
            '[[package]]\nname = "pytest"\nversion = "7.0.0"\ncategory = "dev"\n\n[[package]]\n'
            'name = "requests"\nversion = "2.0.0"\ngroups = ["main", "dev"]\n\n[[package]]\n'
            'name = "mine"\nversion = "0.1"\n[package.source]\ntype = "directory"\nurl = "."\n',
        ),
        "pdm-groups-extras": (
            "pdm.lock",
            '[[package]]\nname = "a[x]"\nversion = "1.0"\ngroups = ["default"]\n\n[[package]]\n'
            'name = "b"\nversion = "2.0"\ngroups = ["test"]\ngit = "https://example.com/b"\n',
        ),
        "uv-project-dev-group": (
            "uv.lock",
            'version = 1\n\n[[package]]\nname = "app"\nversion = "0.1.0"\nsource = { editable = '
            '"." }\ndependencies = [{ name = "flask" }]\n[package.optional-dependencies]\nx = '
            '[{ name = "rich" }]\n[package.dev-dependencies]\ndev = [{ name = "pytest" }]\n\n'
            '[[package]]\nname = "flask"\nversion = "3.0.0"\nsource = { registry = "https://'
            'pypi.org/simple" }\n\n[[package]]\nname = "rich"\nversion = "13.0.0"\n\n'
            '[[package]]\nname = "pytest"\nversion = "8.0.0"\nsource = { git = "https://'
            'example.com/pytest" }\n',
        ),
        "pylock": (
            "pylock.toml",
            'lock-version = "1.0"\n\n[[packages]]\nname = "Some.Pkg"\nversion = "1.0.0"\n\n'
            '[[packages]]\nname = "v"\nversion = "2.4"\n[packages.vcs]\ntype = "git"\nurl = '
            '"https://example.com/v"\n\n[[packages]]\nname = "mine"\n[packages.directory]\n'
            'path = "."\n',
        ),
        "npm-v3": (
            "package-lock.json",
            '{"name": "app", "lockfileVersion": 3, "packages": {"": {"name": "app"}, '
            '"node_modules/lodash": {"version": "4.17.15"}, "node_modules/jest": {"version": '
            '"29.0.0", "dev": true}, "node_modules/a/node_modules/b": {"version": "1.0.0", '
            '"resolved": "git+ssh://git@example.com/b.git"}, "node_modules/l": {"link": true, '
            '"resolved": "packages/l"}}}',
        ),
        "npm-v1": (
            "package-lock.json",
            '{"lockfileVersion": 1, "dependencies": {"a": {"version": "1.0.0", "dev": true, '
            '"dependencies": {"lodash": {"version": "4.17.15"}}}, "f": {"version": '
            '"file:../f"}}}',
        ),
        "gosum": (
            "go.sum",
            "golang.org/x/text v0.3.7 h1:abc=\ngolang.org/x/text v0.3.7/go.mod h1:def=\n"
            "golang.org/x/net v0.1.0 h1:x=\n",
        ),
        "gomod": (
            "go.mod",
            "module example.com/m\n\ngo 1.21\ntoolchain go1.22.3\n\nrequire (\n\tgolang.org/x/"
            "text v0.3.7\n\tgolang.org/x/net v0.1.0 // indirect\n)\n\nrequire \"example.com/q\""
            " v1.0.0-20200101000000-0123456789ab\n\nreplace golang.org/x/net v0.1.0 => golang."
            "org/x/net v0.2.0\nreplace example.com/q => ../q\nexclude golang.org/x/text v0.3.6"
            "\nretract v0.0.1\n",
        ),
    }
    for name, (format_name, text) in small.items():
        seeds[name] = fmt(format_name) + text.encode()
    for name, data in seeds.items():
        write(d, name, data)
    return len(seeds)


# ---------------------------------------------------------------- frontmatter_read

SHA = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"

MERGE = {
    "merge-pass": "verdict: PASS\nreasons: []\nbase_sha: %s\ntested_sha: %s\nfencing_token: 3\n"
    "lease_held: true\nsecurity: {mode: run, verdict: PASS}\n" % (SHA, SHA),
    "merge-pass-skipped": "verdict: PASS\nskipped: true\n",
    "merge-fail-conflict": "verdict: FAIL\nreason: conflict\nreasons: [merge conflict]\n"
    "conflict_files: [a.txt, 'b c.txt']\n",
    "merge-fail-tests": "verdict: FAIL\nreason: tests_failed\ntest_exit_code: 1\n"
    "test_output_tail: |\n  boom\n  ---\n",
    "merge-defer": "verdict: DEFER\nholder: ci-1\nheld_since: '2026-01-01T00:00:00Z'\n"
    "retry_after_s: 31\n",
}

ALL = {
    "all-fail": "verdict: FAIL\nreason: security\nreasons: [secrets found]\nland: false\n"
    "lease_held: false\nsecurity_report: security-report.md\n",
    "all-defer": "verdict: DEFER\nretry_after_s: 5\nland: true\nlease_held: false\n",
    "all-pass-refs": "verdict: PASS\nreasons: []\nland: false\nlease_held: false\n"
    "security_report: testdata/reports/valid-pass.md\nmerge_report: missing.md\n",
}


def frontmatter_seeds():
    d = out_dir("frontmatter_read")
    src = os.path.join(ROOT, "testdata", "reports")
    n = 0
    for name in sorted(os.listdir(src)):
        if name.endswith(".md") and name != "README.md":
            shutil.copyfile(os.path.join(src, name), os.path.join(d, name))
            n += 1
    for schema, reports in (
        ("portcullis/merge-report/v1", MERGE),
        ("portcullis/gate-all-report/v1", ALL),
    ):
        for name, yaml in reports.items():
            body = "\n# Report\n\n***\ntext\n"
            write(d, name + ".md", ("---\nschema: %s\n%s---\n%s" % (schema, yaml, body)).encode())
            n += 1
    return n

# ---------------------------------------------------------------- pack-level targets


def git(repo, *args, data=None):
    env = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_DATE="2020-01-01T00:00:00Z", GIT_COMMITTER_DATE="2020-01-01T00:00:00Z")
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=repo, input=data, capture_output=True, check=True, env=env,
    ).stdout


def build_repo(repo):
    """A repository whose pack holds deltas (edited files) and nested trees."""
    git(repo, "init", "-q", "-b", "main")
    lines = [("line %d: value = config.token_%d\n" % (i, i * 7)).encode() for i in range(120)]
    for rev in range(4):
        os.makedirs(os.path.join(repo, "src", "deep"), exist_ok=True)
        body = b"".join(lines[: 60 + rev * 20]) + (b"edit %d\n" % rev)
        with open(os.path.join(repo, "src", "a.txt"), "wb") as f:
            f.write(body)
        with open(os.path.join(repo, "src", "deep", "b.cfg"), "wb") as f:
            f.write(body[::-1] + SECRET)
        with open(os.path.join(repo, "README"), "wb") as f:
            f.write(b"readme %d\n" % rev)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "rev %d" % rev)
    git(repo, "repack", "-adf", "-q", "--depth=5", "--window=10")
    packs = [f for f in os.listdir(os.path.join(repo, ".git", "objects", "pack"))
             if f.endswith(".pack")]
    path = os.path.join(repo, ".git", "objects", "pack", packs[0])
    with open(path, "rb") as f:
        pack = f.read()
    rows = git(repo, "verify-pack", "-v", path[:-5] + ".idx").decode().splitlines()
    entries = []
    for row in rows:
        parts = row.split()
        if len(parts) >= 5 and len(parts[0]) == 40:
            sha, kind, size, packed, offset = parts[:5]
            base = parts[6] if len(parts) >= 7 else None
            entries.append((sha, kind, int(size), int(packed), int(offset), base))
    return pack, entries


def entry_header_len(pack, offset):
    i = offset
    c = pack[i]
    kind = (c >> 4) & 7
    i += 1
    while c & 0x80:
        c = pack[i]
        i += 1
    if kind == 6:
        c = pack[i]
        i += 1
        while c & 0x80:
            c = pack[i]
            i += 1
    elif kind == 7:
        i += 20
    return kind, i - offset


def encode_size(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def copy_op(off, size):
    cmd, args = 0x80, bytearray()
    for i in range(4):
        if (off >> (8 * i)) & 0xFF:
            cmd |= 1 << i
            args.append((off >> (8 * i)) & 0xFF)
    if size != 0x10000:
        for i in range(3):
            if (size >> (8 * i)) & 0xFF:
                cmd |= 0x10 << i
                args.append((size >> (8 * i)) & 0xFF)
    return bytes([cmd]) + bytes(args)


def delta_seed(base, delta):
    return struct.pack("<H", len(base)) + base + delta


def pack_seeds():
    with tempfile.TemporaryDirectory() as repo:
        pack, entries = build_repo(repo)
        objects = {sha: git(repo, "cat-file", kind, sha) for sha, kind, *_ in entries}
    d_inflate, d_delta = out_dir("inflate"), out_dir("delta_apply")
    d_header, d_tree = out_dir("pack_entry_header"), out_dir("tree_entries")
    counts = {"inflate": 0, "delta_apply": 0, "pack_entry_header": 0, "tree_entries": 0}
    by_offset = {e[4]: e for e in entries}
    for n, (sha, kind, size, packed, offset, base) in enumerate(sorted(entries, key=lambda e: e[4])):
        type_id, hlen = entry_header_len(pack, offset)
        if n < 12:
            write(d_header, "real-%02d-type%d" % (n, type_id),
                  struct.pack("<I", offset) + pack[offset:offset + hlen + 8])
            counts["pack_entry_header"] += 1
        stream = pack[offset + hlen:offset + packed]
        raw = zlib.decompress(stream)
        if n < 10:
            write(d_inflate, "real-%02d-exact" % n, struct.pack("<H", len(raw)) + stream)
            counts["inflate"] += 1
        if base is not None and counts["delta_apply"] < 8:
            write(d_delta, "real-%02d" % n, delta_seed(objects[base], raw))
            counts["delta_apply"] += 1
        if kind == "tree" and base is None and counts["tree_entries"] < 8:
            write(d_tree, "real-%02d" % n, objects[sha])
            counts["tree_entries"] += 1
    text = TEXT * 30
    synthetic_inflate = {
        "stored": struct.pack("<H", len(text)) + zlib.compress(text, 0),
        "fixed-huffman": struct.pack("<H", 0xFFFF) + zlib.compress(b"abcabcabcabc", 1),
        "dynamic-level9": struct.pack("<H", 0xFFFF) + zlib.compress(text, 9),
        "size-one-short": struct.pack("<H", len(text) - 1) + zlib.compress(text, 6),
        "empty-stream": struct.pack("<H", 0) + zlib.compress(b""),
        "trailing-bytes": struct.pack("<H", 0xFFFF) + zlib.compress(text, 6) + b"PACK",
        "bad-adler": struct.pack("<H", 0xFFFF) + zlib.compress(text, 6)[:-1] + b"\x00",
        "raw-deflate-no-header": struct.pack("<H", 0xFFFF) + zlib.compress(text, 6)[2:],
    }
    for name, data in synthetic_inflate.items():
        write(d_inflate, name, data)
    counts["inflate"] += len(synthetic_inflate)
    base = b"".join(b"%04d hello world\n" % i for i in range(40))
    synthetic_delta = {
        "copy-insert": encode_size(len(base)) + encode_size(30 + 5) + copy_op(17, 30)
        + b"\x05tail\n",
        "copy-size-zero-means-64k": encode_size(len(base)) + encode_size(0x10000)
        + copy_op(0, 0x10000),
        "copy-past-base": encode_size(len(base)) + encode_size(40) + copy_op(len(base) - 10, 40),
        "insert-only": encode_size(len(base)) + encode_size(3) + b"\x03abc",
        "reserved-zero-op": encode_size(len(base)) + encode_size(1) + b"\x00",
        "wrong-base-size": encode_size(len(base) + 1) + encode_size(3) + b"\x03abc",
        "result-size-too-small": encode_size(len(base)) + encode_size(2) + b"\x03abc",
        "truncated-copy": encode_size(len(base)) + encode_size(16) + b"\x91\x01",
    }
    for name, delta in synthetic_delta.items():
        write(d_delta, name, delta_seed(base, delta))
    counts["delta_apply"] += len(synthetic_delta)
    synthetic_header = {
        "blob-small": struct.pack("<I", 12) + b"\x35",
        "blob-noncanonical-size": struct.pack("<I", 12) + b"\xb3\x00",
        "ofs-delta-two-byte-distance": struct.pack("<I", 4096) + b"\x6a\x81\x00",
        "ofs-delta-before-pack-header": struct.pack("<I", 20) + b"\x6a\x10",
        "ofs-delta-zero-distance": struct.pack("<I", 100) + b"\x6a\x00",
        "ref-delta": struct.pack("<I", 12) + b"\x7a" + bytes(range(20)),
        "ref-delta-truncated-id": struct.pack("<I", 12) + b"\x7a" + bytes(10),
        "type-zero": struct.pack("<I", 12) + b"\x05",
        "type-five": struct.pack("<I", 12) + b"\x55",
        "size-overflow": struct.pack("<I", 12) + b"\xbf" + b"\xff" * 10 + b"\x01",
    }
    for name, data in synthetic_header.items():
        write(d_header, name, data)
    counts["pack_entry_header"] += len(synthetic_header)
    oid = bytes(range(20))
    synthetic_tree = {
        "two-entries": b"100644 a.txt\0" + oid + b"40000 dir\0" + oid,
        "executable-and-link": b"100755 run.sh\0" + oid + b"120000 link\0" + oid,
        "submodule": b"160000 sub\0" + oid,
        "truncated-id": b"100644 a.txt\0" + oid[:7],
        "no-nul": b"100644 a.txt",
        "bad-mode": b"1x0644 a.txt\0" + oid,
        "empty-name": b"100644 \0" + oid,
        "leading-zero-mode": b"040000 dir\0" + oid,
    }
    for name, data in synthetic_tree.items():
        write(d_tree, name, data)
    counts["tree_entries"] += len(synthetic_tree)
    return counts


# ---------------------------------------------------------------- simd_filter


def simd_seeds():
    """A flags byte, `flags % 16` three-byte codes, then text (see fuzz/src/simd_filter.rs)."""
    d = out_dir("simd_filter")

    def code(w):
        return sum((b & 31) << (5 * i) for i, b in enumerate(w[:4]))

    def codes(*words):
        return b"".join(struct.pack("<I", code(w))[:3] for w in words)

    seeds = {
        "empty-text": bytes([0]),
        "three-bytes": bytes([0x10]) + b"key",
        "keywords-at-both-ends": bytes([2]) + codes(b"api_", b"oken") + b"api_" + b"." * 40 + b"token",
        "secret-line": bytes([3]) + codes(b"secr", b"pass", b"BEGI") + SECRET + TEXT,
        "every-seventh": bytes([0x10]) + bytes(range(256)),
        "lengths-31-33": bytes([0x11]) + codes(b"aaaa") + b"a" * 33,
        "high-bytes": bytes([0x12]) + codes(b"\xff\xff\xff\xff", b"\x80\x80\x80\x80") + bytes(range(128, 256)) * 2,
        "base64-and-escapes": bytes([0x10]) + b"%41%42 \\u0041 U+0041 QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo= " * 3,
        "all-codes-collide": bytes([1]) + codes(b"0pP0") + b"0pP0pP0p" * 20,
    }
    for name, data in seeds.items():
        write(d, name, data)
    return len(seeds)


if __name__ == "__main__":
    print("simd_filter", simd_seeds())
    print("archive_read", archive_seeds())
    print("lockfile_parse", lockfile_seeds())
    print("frontmatter_read", frontmatter_seeds())
    for target, n in pack_seeds().items():
        print(target, n)
