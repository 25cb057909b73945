# shellcheck shell=bash
# Shared helpers for scripts/test and scripts/bench. Source it; do not run it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
#
# Everything here works without a TTY or stdin (CI=true) and as root or, through
# `sudo -n`, as a normal user.

# The script's own name, for messages.
EMPORIUM_SCRIPT="${EMPORIUM_SCRIPT:-$(basename "$0")}"

log() { printf '%s: %s\n' "$EMPORIUM_SCRIPT" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$EMPORIUM_SCRIPT" "$*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# cd to the repository root (the parent of scripts/).
cd_repo_root() {
  local here
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  cd "$here" || die "cannot cd to $here"
}

# Cargo on PATH even in a shell that did not source ~/.cargo/env.
ensure_cargo() {
  if ! have cargo && [[ -f "$HOME/.cargo/env" ]]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
  fi
  have cargo || die "cargo not found (install Rust with rustup)"
}

# Runs a command as root: directly when we are root, else through sudo -n.
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif have sudo && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    die "need root (or password-less sudo) to run: $*"
  fi
}

# Runs a command as another local user (root can always do this).
as_user() {
  local user="$1"
  shift
  if [[ $EUID -eq 0 ]] && have runuser; then
    runuser -u "$user" -- "$@"
  else
    as_root su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"
  fi
}

# apt-get install, quiet and non-interactive; runs apt-get update once per script run.
_emporium_apt_updated=0
apt_install() {
  have apt-get || die "apt-get not found: install $* by hand"
  local opts=(-q -y -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600)
  if [[ $_emporium_apt_updated -eq 0 ]]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" update >/dev/null ||
      die "apt-get update failed"
    _emporium_apt_updated=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    install --no-install-recommends "$@" >/dev/null ||
    die "apt-get install $* failed"
}

# Prints a TCP port on 127.0.0.1 that is free right now.
free_port() {
  local py
  for py in python3 python; do
    if have "$py"; then
      "$py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
      return
    fi
  done
  # Fallback without Python: probe a random high port until one does not answer.
  local port i
  for i in $(seq 1 200); do
    port=$((20000 + (RANDOM % 30000)))
    if ! port_open "$port"; then
      echo "$port"
      return
    fi
    : "$i"
  done
  die "no free TCP port found"
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_port PORT SECONDS [PID] [LOGFILE]: waits until 127.0.0.1:PORT accepts a
# connection; fails (with the log's tail) if PID dies first or time runs out.
wait_port() {
  local port="$1" seconds="$2" pid="${3:-}" logfile="${4:-}"
  local deadline=$((SECONDS + seconds))
  while ! port_open "$port"; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      [[ -n "$logfile" && -f "$logfile" ]] && tail -n 20 "$logfile" >&2
      log "process $pid exited before 127.0.0.1:$port opened"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      [[ -n "$logfile" && -f "$logfile" ]] && tail -n 20 "$logfile" >&2
      log "127.0.0.1:$port did not accept connections within ${seconds}s"
      return 1
    fi
    sleep 0.1
  done
}

# stop_pid PID [NAME]: SIGTERM, then SIGKILL after 5 s; never fails.
stop_pid() {
  local pid="$1" name="${2:-process}" i
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
    : "$i"
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# ensure_pypi_tool VENV PACKAGE VERSION: PACKAGE==VERSION (from PyPI) installed in the
# virtualenv VENV, made with python3 (installed if missing). Concurrent callers
# share VENV: one installs while the others wait on VENV.lock.
ensure_pypi_tool() {
  local venv="$1" package="$2" version="$3" fd
  _pypi_version() {
    "$1/bin/python" -c "import importlib.metadata as m; print(m.version('$2'))" 2>/dev/null || true
  }
  [[ "$(_pypi_version "$venv" "$package")" == "$version" ]] && return 0
  mkdir -p "$(dirname "$venv")"
  exec {fd}>"$venv.lock"
  flock -w 900 "$fd" || die "timed out waiting for another $package install"
  if [[ "$(_pypi_version "$venv" "$package")" != "$version" ]]; then
    have python3 || apt_install python3
    log "installing $package==$version into $venv"
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      rm -rf "$venv"
      apt_install python3-venv
      python3 -m venv "$venv" || die "python3 -m venv failed"
    fi
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "$package==$version" ||
      die "pip install $package==$version failed"
    [[ "$(_pypi_version "$venv" "$package")" == "$version" ]] || die "$package $version not installed"
  fi
  exec {fd}>&-
}

# ensure_tools TOOL...: each command on PATH, installed with apt-get (package of the
# same name) when missing.
ensure_tools() {
  local tool missing=()
  for tool in "$@"; do
    have "$tool" || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
}

# write_marked_block DOC NAME RESULTS [HEADING]: the lines between
# `<!-- NAME:begin -->` and `<!-- NAME:end -->` in DOC become the contents of the file
# RESULTS; without those markers the block is appended (after a `## HEADING` line
# when given). How each benchmark records its last run in docs/benchmarks.md.
write_marked_block() {
  local doc="$1" name="$2" results="$3" heading="${4:-}"
  local begin="<!-- $name:begin -->" end="<!-- $name:end -->" updated
  if [[ -f "$doc" ]] && grep -qxF "$begin" "$doc" && grep -qxF "$end" "$doc"; then
    updated="$(awk -v file="$results" -v begin="$begin" -v end="$end" '
      $0 == begin { print; while ((getline l < file) > 0) print l; skip = 1; next }
      $0 == end { skip = 0 }
      !skip { print }' "$doc")"
    printf '%s\n' "$updated" >"$doc"
  else
    {
      echo
      [[ -n "$heading" ]] && { echo "## $heading"; echo; }
      echo "$begin"
      cat "$results"
      echo "$end"
    } >>"$doc"
  fi
}
