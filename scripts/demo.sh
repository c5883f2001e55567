#!/usr/bin/env bash
# make demo: install, migrate, load the demo city, then run the web server and the django-q2 cluster
# together until Ctrl-C stops both.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/install.sh"

cd "$ROOT"
mkdir -p "${CASEWORK_VAR_DIR:-var}"
PORT="${PORT:-8000}"
# The demo runs as production does — gunicorn, whitenoise, DEBUG off — so a demo user sees the project's own
# error pages, never Django's technical ones; it listens on this machine only unless HOST says otherwise.
HOST="${HOST:-127.0.0.1}"
export DEBUG="${DEBUG:-0}"
if [ "$HOST" != "127.0.0.1" ] && [ -z "${ALLOWED_HOSTS:-}" ]; then export ALLOWED_HOSTS="*"; fi
export GUNICORN_BIND="$HOST:$PORT"
# SQLite takes one writer at a time: two workers are plenty for a demo.
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"
case "${DATABASE_URL:-}" in postgres://* | postgresql://*) "$ROOT/scripts/ensure_postgres.sh" ;; esac

compile_messages
"$PY" manage.py migrate --noinput --verbosity 0
# the periodic jobs the task cluster runs (outbox delivery, deadline sweeps)
if "$PY" manage.py help --commands | grep -qx setup_schedules; then
    "$PY" manage.py setup_schedules >/dev/null
fi
"$PY" manage.py load_demo
# Notices are signed (PAdES): a demo CA and one certificate per organisation, outside the repository
# (NOTICE_PKI_DIR, default ~/.local/share/casework/pki); kept on later runs.
"$PY" manage.py notice_pki
logins="$("$PY" manage.py load_demo --show-logins)"

web=""
tasks=""
running() { [ -n "$1" ] && ps -o stat= --sid "$1" 2>/dev/null | grep -qv '^Z'; }
stop() {
    trap - INT TERM EXIT
    # qcluster stops its own workers on SIGTERM; gunicorn's master stops its workers.
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
setsid "$VENV/bin/gunicorn" -c deploy/gunicorn.conf.py config.wsgi &
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
