#!/usr/bin/env bash
# Benchmark `portcullis scan dir` end to end on a generated corpus.
#
#   benches/scan_dir.sh [MEGABYTES] [BINARY]
#
# Generates (once, deterministically) MEGABYTES (default 200) of mixed source-code-like files
# under ${BENCH_DIR:-target/bench-scan-dir}/corpus: ~40 kB files in nested directories, a few
# embedded tokens, ELF-like binaries with a token inside, and zip archives. Then runs the
# release binary with the embedded default rules and prints wall time and MB/s.
set -euo pipefail
MB=${1:-200}
BIN=${2:-${CARGO_TARGET_DIR:-target}/release/portcullis}
DIR=${BENCH_DIR:-${CARGO_TARGET_DIR:-target}/bench-scan-dir}
CORPUS="$DIR/corpus-$MB"
if [ ! -d "$CORPUS" ]; then
  mkdir -p "$CORPUS"
  python3 - "$CORPUS" "$MB" <<'PY'
import io, os, random, sys, zipfile
root, mb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
words = ("let mut self fn return match impl struct const value config user name id data "
         "request response error result option some none string vec map key token path file "
         "import from def class public private static void int long if else for while").split()
def line():
    n = rnd.randint(3, 14)
    s = " ".join(rnd.choice(words) for _ in range(n))
    kind = rnd.random()
    if kind < 0.1: return f'    let {rnd.choice(words)} = "{s}";\n'
    if kind < 0.2: return f"    // {s}\n"
    if kind < 0.25: return f'{rnd.choice(words)}_{rnd.choice(words)} = "{rnd.getrandbits(64):016x}"\n'
    return f"    {s}({rnd.randint(0, 9999)});\n"
total, i = 0, 0
target = mb * 1_000_000
while total < target:
    d = os.path.join(root, f"pkg{i % 37}", f"mod{i % 11}")
    os.makedirs(d, exist_ok=True)
    buf = io.StringIO()
    while buf.tell() < 40_000:
        buf.write(line())
        if rnd.random() < 0.0005:
            buf.write('GITHUB_TOKEN = "ghp_' + "".join(rnd.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(36)) + '"\n')
    data = buf.getvalue().encode()
    if i % 200 == 7:
        blob = bytes(rnd.getrandbits(8) for _ in range(20_000))
        data = b"\x7fELF\x02\x01\x01" + blob[:10_000] + b"AKIAZ7QWERTYUIOP5XYZ" + blob[10_000:]
        name = f"tool{i}.bin"
    elif i % 200 == 13:
        mem = io.BytesIO()
        with zipfile.ZipFile(mem, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("inner/app.py", data)
        data = mem.getvalue()
        name = f"bundle{i}.zip"
    else:
        name = f"file{i}.{rnd.choice(['rs', 'py', 'go', 'js', 'java', 'toml', 'yaml'])}"
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    total += len(data)
    i += 1
print(f"generated {i} files, {total / 1e6:.1f} MB", file=sys.stderr)
PY
fi
BYTES=$(du -sb "$CORPUS" | cut -f1)
# Warm the page cache, then measure.
cat $(find "$CORPUS" -type f) > /dev/null
START=$(date +%s.%N)
set +e
"$BIN" scan dir "$CORPUS" -q -r "$DIR/report.json"
CODE=$?
set -e
END=$(date +%s.%N)
python3 - "$START" "$END" "$BYTES" "$CODE" "$DIR/report.json" <<'PY'
import json, sys
start, end, size, code, rep = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
n = len(json.load(open(rep)))
secs = end - start
print(f"scan dir: {size/1e6:.1f} MB in {secs:.2f}s = {size/1e6/secs:.0f} MB/s, {n} findings, exit {code}")
PY
