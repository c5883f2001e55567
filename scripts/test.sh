#!/usr/bin/env bash
# The whole test suite on PostgreSQL (make test). Extra arguments go to pytest: scripts/test.sh -k calendar
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/install.sh" --test

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/casework}"
export FAST_PASSWORD_HASHER=1
# django-q2 runs tasks in-process, so on_commit side effects happen inside the test that caused them.
export Q_SYNC=1
"$ROOT/scripts/ensure_postgres.sh"
# Redis for the tests of the scaled-out setup (broker, cache); they pick their own key prefix and queue name.
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
REDIS_URL="$TEST_REDIS_URL" "$ROOT/scripts/ensure_redis.sh"
compile_messages

cd "$ROOT"
status=0
"$PY" -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "ERROR: pytest collected no tests (exit code 5) — that is a failure, not a pass." >&2
fi
exit "$status"
