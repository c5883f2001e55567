"""Database backends: Django's own PostgreSQL and SQLite backends plus a hook that runs just before COMMIT.

The audit chain appends a transaction's events as one batch at the very end of the transaction, so the one
chain-head row is locked only from there to the commit instead of from the first event on (issue 15).
Django has ``on_commit`` (after) but no "before commit"; these backends add ``queue_before_commit``.
"""
