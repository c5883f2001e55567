"""Django's PostgreSQL backend with the pre-commit hook of config/db/precommit.py and savepoint elision
(config/db/savepoints.py)."""

from django.db.backends.postgresql import base

from config.db.precommit import PreCommitMixin
from config.db.savepoints import SavepointElisionMixin


class DatabaseWrapper(PreCommitMixin, SavepointElisionMixin, base.DatabaseWrapper):
    pass
