#!/usr/bin/env bash
# make bench: every bench/bench_*.py on its own PostgreSQL database, output kept under bench/results/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/install.sh"
export DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/casework_bench}"
"$ROOT/scripts/ensure_postgres.sh"

cd "$ROOT"
"$PY" manage.py migrate --noinput --verbosity 0
exec "$PY" bench/run_all.py "$@"
