#!/usr/bin/env bash
# The repository's .pre-commit-hooks.yaml, run by the real pre-commit tool (installed from
# PyPI into a throwaway virtualenv) in a throwaway repository:
#   * a commit that stages a secret is refused, a clean one passes (staged-secrets hook);
#   * gitleaks' own hook spelling works with the binary name changed;
#   * a commit that stages a vulnerable lockfile is refused, a clean lockfile passes;
#   * a push whose commits add a secret is refused, a clean push passes (pre-push hook);
#   * every `language: rust` hook has a `-system` twin running the same command.
# usage: tests/pre-commit-hooks.sh PATH/TO/portcullis     (run by .ci/run)
set -euo pipefail

bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$bin" ] || { echo "no portcullis binary at $1" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-pre-commit.XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAILED: $*"; failed=$((failed + 1)); }

# Isolated git and pre-commit state.
export HOME=$work/home GIT_CONFIG_NOSYSTEM=1 PRE_COMMIT_HOME=$work/pre-commit-cache
mkdir -p "$HOME"
git config --global user.name "Hook Test"
git config --global user.email "hooks@test.invalid"
git config --global init.defaultBranch main
git config --global commit.gpgsign false

# pre-commit itself, from the package index.
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "pre-commit>=3.2"
export PATH="$work/venv/bin:$(dirname "$bin"):$PATH"
[ "$(command -v portcullis)" = "$bin" ] || ln -sf "$bin" "$work/venv/bin/portcullis"
pre-commit --version

# The hooks repository: this checkout's .pre-commit-hooks.yaml, committed on its own.
hooks=$work/hooks
mkdir -p "$hooks"
cp "$root/.pre-commit-hooks.yaml" "$hooks/"
git -C "$hooks" init -q
git -C "$hooks" add .pre-commit-hooks.yaml
git -C "$hooks" commit -q -m hooks
rev=$(git -C "$hooks" rev-parse HEAD)

# Every rust hook has a system twin with the same entry, files and stages.
"$work/venv/bin/python" - "$hooks/.pre-commit-hooks.yaml" <<'PY'
import sys, yaml
hooks = {h["id"]: h for h in yaml.safe_load(open(sys.argv[1]))}
for hid, h in hooks.items():
    if h["language"] == "rust":
        twin = hooks[hid + "-system"]
        assert twin["language"] == "system", hid
        for key in ("entry", "files", "stages", "pass_filenames", "always_run"):
            assert h.get(key) == twin.get(key), (hid, key)
print("hook twins agree:", ", ".join(sorted(hooks)))
PY
ok "rust hooks and their -system twins run the same command"

# A throwaway project using the hooks, with a bare remote to push to.
proj=$work/project
git init -q --bare "$work/remote.git"
git init -q "$proj"
cd "$proj"
git remote add origin "$work/remote.git"
cat > .pre-commit-config.yaml <<EOF
repos:
  - repo: $hooks
    rev: $rev
    hooks:
      - id: portcullis-system
      - id: portcullis-audit-system
      - id: portcullis-pre-push-system
EOF
git add .pre-commit-config.yaml
git commit -q --no-verify -m "pre-commit config"
pre-commit install --hook-type pre-commit --hook-type pre-push >/dev/null

# A live-looking Stripe key, generated so that no literal key sits in this file.
key="sk_live_$(head -c 96 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)"

echo "hello" > README.md
git add README.md
if git commit -q -m "clean commit" >"$work/out" 2>&1; then ok "a clean commit passes"; else
  cat "$work/out"; bad "a clean commit was refused"; fi

printf 'STRIPE_KEY=%s\n' "$key" > app.env
git add app.env
if git commit -q -m "leak" >"$work/out" 2>&1; then bad "a commit staging a secret was accepted"; else
  if grep -q "stripe-access-token" "$work/out" && ! grep -qF "$key" "$work/out"; then
    ok "a commit staging a secret is refused (rule named, secret redacted)"
  else cat "$work/out"; bad "refused without naming the rule, or the secret was printed"; fi
fi
git reset -q HEAD app.env

# gitleaks' hook, binary name changed: a local hook with gitleaks' entry.
cat > "$work/gitleaks-style.yaml" <<EOF
repos:
  - repo: local
    hooks:
      - id: gitleaks
        name: gitleaks hook, portcullis binary
        entry: portcullis git --pre-commit --redact --staged --verbose
        language: system
        pass_filenames: false
EOF
git add app.env
if pre-commit run --config "$work/gitleaks-style.yaml" >"$work/out" 2>&1; then
  cat "$work/out"; bad "gitleaks' spelling let a staged secret through"
else ok "gitleaks' hook spelling refuses a staged secret"; fi
git reset -q HEAD app.env
rm app.env

# Lockfiles: a vulnerable one is refused, a clean one passes.
cp "$root/testdata/audit/rust/fd-8.3.0/Cargo.lock" Cargo.lock
git add Cargo.lock
if git commit -q -m "vulnerable lockfile" >"$work/out" 2>&1; then
  bad "a vulnerable lockfile was accepted"
elif grep -q "RUSTSEC-" "$work/out"; then ok "a vulnerable lockfile is refused"
else cat "$work/out"; bad "lockfile refused without naming an advisory"; fi
cp "$root/testdata/audit/rust/ripgrep-3fce3b5/Cargo.lock" Cargo.lock
git add Cargo.lock
if git commit -q -m "clean lockfile" >"$work/out" 2>&1; then ok "a clean lockfile passes"; else
  cat "$work/out"; bad "a clean lockfile was refused"; fi

# Pre-push: the pushed range is scanned.
if git push -q origin main >"$work/out" 2>&1; then ok "a clean push passes"; else
  cat "$work/out"; bad "a clean push was refused"; fi
printf 'STRIPE_KEY=%s\n' "$key" > app.env
git add app.env
git commit -q --no-verify -m "leak, hook skipped"
if git push -q origin main >"$work/out" 2>&1; then bad "a push adding a secret was accepted"; else
  if grep -q "stripe-access-token" "$work/out"; then ok "a push adding a secret is refused"
  else cat "$work/out"; bad "push refused without naming the rule"; fi
fi

echo "hooks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
