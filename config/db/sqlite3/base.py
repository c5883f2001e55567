"""Django's SQLite backend (the embedded demo) with the pre-commit hook of config/db/precommit.py and savepoint elision
(config/db/savepoints.py)."""

from django.db.backends.sqlite3 import base

from config.db.precommit import PreCommitMixin
from config.db.savepoints import SavepointElisionMixin


class DatabaseWrapper(PreCommitMixin, SavepointElisionMixin, base.DatabaseWrapper):
    pass
