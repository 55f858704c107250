#!/usr/bin/env python3
"""Writes the seed corpora of the archive_read, lockfile_parse and frontmatter_read fuzz
targets into fuzz/corpus/<target>/ (run from the repository root; deterministic output).

archive_read seeds are one selector byte (file name and limits, see fuzz/src/archive_read.rs)
followed by an archive built here with the standard library. lockfile_parse seeds are one
format byte (see fuzz/src/lockfile_parse.rs) followed by a lockfile: the head of each real
lockfile in testdata/audit/ plus small files for the formats without one there.
frontmatter_read seeds are the report files of testdata/reports/ plus merge and gate-all
reports written here.
"""

import gzip
import io
import json
import os
import shutil
import tarfile
import zipfile

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


if __name__ == "__main__":
    print("archive_read", archive_seeds())
    print("lockfile_parse", lockfile_seeds())
    print("frontmatter_read", frontmatter_seeds())
