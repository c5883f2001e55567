#!/usr/bin/env bash
# make demo: install, migrate, load the demo city, then run the web server and the django-q2 cluster
# together until Ctrl-C stops both.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/install.sh"

cd "$ROOT"
mkdir -p "${CASEWORK_VAR_DIR:-var}"
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
logins="$("$PY" manage.py load_demo --show-logins)"

web=""
tasks=""
running() { [ -n "$1" ] && ps -o stat= --sid "$1" 2>/dev/null | grep -qv '^Z'; }
stop() {
    trap - INT TERM EXIT
    # qcluster stops its own workers on SIGTERM; the web server's group includes the autoreloader child.
    if [ -n "$tasks" ]; then kill -TERM "$tasks" 2>/dev/null || true; fi
    if [ -n "$web" ]; then kill -TERM -- "-$web" 2>/dev/null || true; fi
    for _ in $(seq 1 40); do
        running "$web" || running "$tasks" || break
        sleep 0.5
    done
    # whatever has not stopped within 20 seconds
    for sid in $web $tasks; do
        if running "$sid"; then pkill -KILL --session "$sid" || true; fi
    done
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# Each in its own session, so what it starts (the autoreloader's child, the task workers) can be found and
# stopped with it, and a Ctrl-C reaches them only through stop().
setsid "$PY" manage.py runserver "0.0.0.0:$PORT" &
web=$!
setsid "$PY" manage.py qcluster &
tasks=$!

for _ in $(seq 1 60); do
    "$PY" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$PORT/accounts/login/', timeout=2)" \
        2>/dev/null && break
    sleep 0.5
done
echo
echo "Credit Casework demo: http://127.0.0.1:$PORT/   (Ctrl-C stops the web server and the task cluster)"
echo "$logins"
echo

# Either process ending (or Ctrl-C) ends the demo.
wait -n "$web" "$tasks" || true
