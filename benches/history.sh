#!/usr/bin/env bash
# History-scan benchmark: portcullis vs gitleaks / Kingfisher (when on PATH) vs the
# `git cat-file` floor, on a synthetic history (examples/gen-history.rs) or a given repository.
#
#   bash benches/history.sh --commits 5000            # CI: generate 5,000 commits, measure
#   bash benches/history.sh --repo /path/to/repo.git  # any repository (bare or not)
#   options: --runs N (default 3), --no-peers, --range-only, --keep
#
# Prints commits/s and MB/s for portcullis, medians of every tool, ratios, peak RSS, and the
# time of a 5-commit range scan. Exit status 0 unless a tool fails to run or portcullis misses
# a planted secret of a generated repository.
set -euo pipefail

COMMITS=5000 REPO="" RUNS=3 PEERS=1 RANGE_ONLY=0 KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --commits) COMMITS=$2; shift 2 ;;
    --repo) REPO=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --no-peers) PEERS=0; shift ;;
    --range-only) RANGE_ONLY=1; shift ;;
    --keep) KEEP=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
(cd "$ROOT" && cargo build --release --quiet --bin portcullis --example gen-history)
BIN=$CARGO_TARGET_DIR/release/portcullis
GEN=$CARGO_TARGET_DIR/release/examples/gen-history
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-bench.XXXXXX")
cleanup() { if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi; }
trap cleanup EXIT

GENERATED=0
if [ -z "$REPO" ]; then
  REPO=$WORK/history-$COMMITS.git
  t0=$(date +%s.%N)
  "$GEN" "$REPO" --commits "$COMMITS"
  echo "generated $COMMITS commits in $(echo "$(date +%s.%N) - $t0" | bc) s"
  GENERATED=1
fi
NCOMMITS=$(git -C "$REPO" rev-list --all --count)
PACK_MB=$(du -sm "$REPO" | cut -f1)
echo "repository: $REPO ($NCOMMITS commits, ${PACK_MB} MB on disk)"

# median_seconds NAME CMD... : runs CMD $RUNS times (after one warm-up), prints the median.
median_seconds() {
  local name=$1; shift
  local times=() i s e
  "$@" >/dev/null 2>&1 || true
  for ((i = 0; i < RUNS; i++)); do
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    e=$(date +%s.%N)
    times+=("$(echo "$e - $s" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk -v n="$RUNS" '{a[NR]=$1} END {print (n % 2) ? a[(n+1)/2] : (a[n/2]+a[n/2+1])/2}'
}

peak_rss_mb() {
  /usr/bin/time -v "$@" 2>&1 >/dev/null | awk '/Maximum resident set size/ {printf "%.0f", $6/1024}' || true
}

ratio() { echo "scale=2; $1 / $2" | bc; }

PC=("$BIN" scan git "$REPO" --quiet --exit-code 0 --report-path "$WORK/pc.json")
RANGE=("$BIN" scan git "$REPO" --quiet --exit-code 0 --range "HEAD~5..HEAD" --report-path "$WORK/pc-range.json")

T_RANGE=$(median_seconds range "${RANGE[@]}")
echo "portcullis 5-commit range (HEAD~5..HEAD): $(echo "$T_RANGE * 1000" | bc | cut -d. -f1) ms (median of $RUNS)"
if [ "$RANGE_ONLY" = 1 ]; then exit 0; fi

T_PC=$(median_seconds portcullis "${PC[@]}")
STATS=$("$BIN" scan git "$REPO" --exit-code 0 --report-path "$WORK/pc.json" 2>&1 >/dev/null | grep -E 'commits scanned' | tail -1 || true)
BYTES=$(echo "$STATS" | sed -n 's/.* \([0-9][0-9]*\) bytes.*/\1/p')
BYTES=${BYTES:-0}
RSS_PC=$(peak_rss_mb "${PC[@]}")
T_FLOOR=$(median_seconds floor git -C "$REPO" cat-file --batch-all-objects --batch --unordered)
echo
echo "portcullis full history: ${T_PC} s median, $(echo "$NCOMMITS / $T_PC" | bc) commits/s, $(echo "scale=1; $BYTES / 1000000 / $T_PC" | bc) MB/s of blob content, peak RSS ${RSS_PC} MB"
echo "  ($STATS)"
echo "floor (git cat-file --batch-all-objects --batch --unordered): ${T_FLOOR} s; portcullis/floor = $(ratio "$T_PC" "$T_FLOOR")x"

if [ "$GENERATED" = 1 ]; then
  PLANTED=$(grep -c . "$REPO/planted-secrets.txt" || true)
  FOUND=$(grep -o '"RuleID"' "$WORK/pc.json" | wc -l)
  echo "planted secrets: $PLANTED, portcullis findings: $FOUND"
  if [ "$FOUND" -lt "$PLANTED" ]; then echo "ERROR: portcullis missed planted secrets" >&2; exit 1; fi
fi

if [ "$PEERS" = 1 ]; then
  if command -v gitleaks >/dev/null; then
    GL=(gitleaks git "$REPO" --no-banner --exit-code 0 --report-format json --report-path "$WORK/gl.json")
    T_GL=$(median_seconds gitleaks "${GL[@]}")
    RSS_GL=$(peak_rss_mb "${GL[@]}")
    echo "gitleaks $(gitleaks version 2>/dev/null): ${T_GL} s, peak RSS ${RSS_GL} MB, $(grep -o '"RuleID"' "$WORK/gl.json" | wc -l) findings; gitleaks/portcullis = $(ratio "$T_GL" "$T_PC")x"
    GLR=(gitleaks git "$REPO" --no-banner --exit-code 0 --log-opts="HEAD~5..HEAD" --report-format json --report-path "$WORK/gl-range.json")
    T_GLR=$(median_seconds gitleaks-range "${GLR[@]}")
    echo "gitleaks 5-commit range: $(echo "$T_GLR * 1000" | bc | cut -d. -f1) ms; ratio $(ratio "$T_GLR" "$T_RANGE")x"
  else
    echo "gitleaks not on PATH: skipped"
  fi
  if command -v kingfisher >/dev/null; then
    KF=(kingfisher scan "$REPO" --no-validate --git-history full --no-update-check --format json -o "$WORK/kf.json")
    T_KF=$(median_seconds kingfisher "${KF[@]}")
    RSS_KF=$(peak_rss_mb "${KF[@]}")
    echo "kingfisher $(kingfisher --version 2>/dev/null | head -1): ${T_KF} s, peak RSS ${RSS_KF} MB; kingfisher/portcullis = $(ratio "$T_KF" "$T_PC")x"
  else
    echo "kingfisher not on PATH: skipped"
  fi
fi
