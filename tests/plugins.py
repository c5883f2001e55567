"""Project pytest plugin (loaded with ``-p tests.plugins`` from pyproject.toml).

The suite must run on PostgreSQL: row locks (select_for_update), partial indexes, concurrent number
allocation and the audit chain's serialisation behave differently — or not at all — on SQLite, so a green
run on SQLite proves little. Settings fall back to SQLite when DATABASE_URL is unset, so refuse that here
instead of quietly passing on the wrong database. ALLOW_SQLITE_TESTS=1 overrides, for a quick local look.
"""

import os

import pytest

# Browser fixtures (page, browser) for every test module; playwright is imported only when one is used.
pytest_plugins = ["tests.browser"]

REFUSAL = (
    "The test suite runs on PostgreSQL, but DATABASE_URL selects {engine}. Run `make test`, or set "
    "DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db>; set ALLOW_SQLITE_TESTS=1 to run on SQLite anyway."
)


def database_engine() -> str | None:
    from django.conf import settings

    if not settings.configured:
        return None
    return settings.DATABASES["default"]["ENGINE"]


def pytest_sessionstart(session):
    engine = database_engine()
    if engine is None or engine.endswith("postgresql") or os.environ.get("ALLOW_SQLITE_TESTS") == "1":
        return
    pytest.exit(REFUSAL.format(engine=engine), returncode=pytest.ExitCode.USAGE_ERROR)
