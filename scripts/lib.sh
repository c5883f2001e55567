# Shared helpers for the scripts in this folder (sourced, not run).
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "need root to run: $*"
    fi
}

# Install the Debian packages given that are not installed yet; with all present this costs one dpkg-query.
apt_ensure() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Another apt/dpkg run (unattended-upgrades on a fresh machine) may hold the lock: wait for it up to
    # APT_LOCK_TIMEOUT seconds instead of failing at once.
    local wait_lock=(-o "DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT:-300}")
    as_root apt-get "${wait_lock[@]}" update -qq
    as_root apt-get "${wait_lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" </dev/null
}

# Compile the translation catalogs when there are any (the .mo files are build output, not sources).
compile_messages() {
    if compgen -G "$ROOT/locale/*/LC_MESSAGES/*.po" >/dev/null; then
        (cd "$ROOT" && "$PY" manage.py compilemessages --verbosity 0 --ignore=.venv)
    fi
}
