"""Django's SQLite backend (the embedded demo) with the pre-commit hook of config/db/precommit.py."""

from django.db.backends.sqlite3 import base

from config.db.precommit import PreCommitMixin


class DatabaseWrapper(PreCommitMixin, base.DatabaseWrapper):
    pass
