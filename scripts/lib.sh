# Shared helpers for the project's scripts. Source it; do not run it.
# Everything a fresh machine lacks is installed here, idempotently, under the repository.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# Scratch space for builds, venvs' caches, server data dirs and logs of one run.
WORK="${WORK:-$ROOT/.work}"
export WORK
mkdir -p "$WORK"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The Python venv with the pinned test packages (tests/requirements.txt). Re-installs only when the
# requirements file changes.
ensure_venv() {
  local venv="$ROOT/.venv" req="$ROOT/tests/requirements.txt"
  if [ ! -x "$venv/bin/python" ]; then
    log "creating $venv"
    python3 -m venv "$venv"
  fi
  local stamp="$venv/.requirements.sha"
  local want; want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing $req into $venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    echo "$want" >"$stamp"
  fi
  export VENV="$venv"
  export PATH="$venv/bin:$PATH"
}

# Builds the workspace's binaries in release mode (one profile for tests, binaries and benches).
ensure_rust_build() {
  log "cargo build --release (workspace)"
  (cd "$ROOT" && cargo build --release --workspace --bins --locked)
}

# Runs pytest and treats "no tests collected" (exit code 5) as the setup failure it is.
run_pytest() {
  set +e
  "$VENV/bin/python" -m pytest "$@"
  local rc=$?
  set -e
  if [ "$rc" -eq 5 ]; then
    log "pytest collected no tests: the test setup is broken"
    return 1
  fi
  return "$rc"
}
