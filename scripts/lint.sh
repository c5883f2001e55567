#!/usr/bin/env bash
# Lint and format checks (make lint; .ci/run runs it before the tests): a failure here fails CI.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/install.sh" --test
cd "$ROOT"
say "ruff check"
"$VENV/bin/ruff" check .
say "ruff format --check"
"$VENV/bin/ruff" format --check .
say "makemigrations --check"
# The embedded default database is enough: the check compares models with migration files only.
"$PY" manage.py makemigrations --check --dry-run
