#!/usr/bin/env bash
# Re-records expected/<run>.json with the real gitleaks for every run in runs.txt.
# Usage: testdata/gitleaks-diff/record.sh [GITLEAKS]   (default: gitleaks on PATH)
# The reports are normalised (sorted, one space indent) so that re-recording gives stable diffs;
# the test compares findings as sets, so the order does not matter to it.
set -euo pipefail
cd "$(dirname "$0")"
gitleaks=${1:-gitleaks}
version=$("$gitleaks" version)
if [ "$version" != "8.30.1" ]; then
  echo "expected gitleaks 8.30.1, got $version" >&2
  exit 2
fi
mkdir -p expected
grep -v '^#' runs.txt | while read -r name config flags; do
  [ -n "$name" ] || continue
  out=expected/$name.json
  # config "-": no --config flag (tree/.gitleaks.toml is discovered)
  cfgflag=(--config "$config")
  [ "$config" = "-" ] && cfgflag=()
  # flags "<FILE": `gitleaks stdin` with FILE as standard input instead of `dir tree`
  if [[ "$flags" == "<"* ]]; then
    "$gitleaks" stdin "${cfgflag[@]}" --report-format json --report-path "$out.tmp" \
      --no-banner --log-level error --exit-code 0 <"${flags#<}"
  else
    # shellcheck disable=SC2086 # flags are split on purpose
    "$gitleaks" dir tree "${cfgflag[@]}" $flags --report-format json --report-path "$out.tmp" \
      --no-banner --log-level error --exit-code 0 </dev/null
  fi
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.sort(key=lambda f:(f["File"],f["StartLine"],f["StartColumn"],f["RuleID"],f["Secret"],f["Match"],",".join(f["Tags"]),f["SymlinkFile"])); json.dump(d,open(sys.argv[2],"w"),indent=1,ensure_ascii=False); open(sys.argv[2],"a").write("\n")' "$out.tmp" "$out"
  rm -f "$out.tmp"
  echo "$name: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$out") findings"
done
