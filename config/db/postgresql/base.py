"""Django's PostgreSQL backend with the pre-commit hook of config/db/precommit.py."""

from django.db.backends.postgresql import base

from config.db.precommit import PreCommitMixin


class DatabaseWrapper(PreCommitMixin, base.DatabaseWrapper):
    pass
