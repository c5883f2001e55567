"""``with connection.savepoints_elided():`` — nested ``atomic()`` blocks inside open no savepoint.

For library code whose nested blocks use savepoints we have no use for: viewflow's routing opens
``atomic(savepoint=True)`` around every switch, end and start node, and nothing in our flows ever catches a
failure inside them (viewflow propagates exceptions unless a timer or job asks otherwise, and our flows have
neither) — a failure rolls back the whole step. Two statements per node (issue 15). Only the *creation* of a
savepoint is skipped: a block entered inside behaves as ``atomic(savepoint=False)`` (a failure marks the
enclosing transaction for rollback), and savepoints opened before keep rolling back and releasing as usual.
"""

from __future__ import annotations

from contextlib import contextmanager


class SavepointElisionMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._savepoints_elided = 0

    @contextmanager
    def savepoints_elided(self):
        self._savepoints_elided += 1
        try:
            yield
        finally:
            self._savepoints_elided -= 1

    def savepoint(self):
        if self._savepoints_elided and self.in_atomic_block:
            return None
        return super().savepoint()
