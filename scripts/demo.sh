#!/usr/bin/env bash
# make demo: install, migrate, load the demo city, then run the web server and the django-q2 cluster
# together until Ctrl-C stops both.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/install.sh"

cd "$ROOT"
mkdir -p var
PORT="${PORT:-8000}"
# The demo is a development server: tracebacks on, reachable from other machines on the network.
export DEBUG="${DEBUG:-1}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-*}"
case "${DATABASE_URL:-}" in postgres://* | postgresql://*) "$ROOT/scripts/ensure_postgres.sh" ;; esac

compile_messages
"$PY" manage.py migrate --noinput --verbosity 0
# the periodic jobs the task cluster runs (outbox delivery, deadline sweeps)
if "$PY" manage.py help --commands | grep -qx setup_schedules; then
    "$PY" manage.py setup_schedules >/dev/null
fi
"$PY" manage.py load_demo

pids=()
stop() {
    trap - INT TERM EXIT
    local pid
    for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop INT TERM EXIT

# Each in its own process group, so stopping one also stops what it started (reloader child, q workers).
setsid "$PY" manage.py runserver "0.0.0.0:$PORT" &
pids+=($!)
setsid "$PY" manage.py qcluster &
pids+=($!)

for _ in $(seq 1 60); do
    "$PY" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$PORT/accounts/login/', timeout=2)" \
        2>/dev/null && break
    sleep 0.5
done
echo
echo "Credit Casework demo: http://127.0.0.1:$PORT/   (Ctrl-C stops the web server and the task cluster)"
"$PY" manage.py load_demo --show-logins

# Either process ending (or Ctrl-C) ends the demo.
wait -n "${pids[@]}" || true
