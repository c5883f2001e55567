"""``connection.queue_before_commit(handler, item)``: work that must run inside the transaction, last.

Items are kept with the savepoints open when they were queued (as Django keeps ``on_commit`` callbacks), so
an inner ``atomic()`` that rolls back drops its own items and a full rollback drops them all. Just before
COMMIT each registered handler gets its items, in the order queued, and may run SQL in the transaction; if it
fails the transaction rolls back. Under Django's ``TestCase`` (whose outer atomic blocks never commit) the
handler runs when the item is queued, so tests see what production commits.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import DatabaseError
from django.db.transaction import TransactionManagementError

# handler name → function(connection, items); registered by the apps that queue items (AppConfig.ready).
HANDLERS: dict[str, Callable] = {}
# Handlers that run after every other one (the audit chain: its head row is locked from its batch to COMMIT, so
# nothing else may run in between).
LAST: set[str] = set()


def register(name: str, handler: Callable, *, last: bool = False) -> None:
    HANDLERS[name] = handler
    if last:
        LAST.add(name)


class PreCommitMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_commit: list[tuple[set, str, object]] = []
        # Answers that hold for the rest of the transaction (e.g. the rule set in force today), read once per
        # transaction: emptied at its end and at any savepoint rollback (so a test's rolled-back data never
        # leaks into the next test).
        self.transaction_memo: dict = {}

    def queue_before_commit(self, handler: str, item) -> None:
        if not self.in_atomic_block:
            raise TransactionManagementError("queue_before_commit needs an open transaction (atomic block)")
        if handler not in HANDLERS:
            raise KeyError(f"no pre-commit handler registered as {handler!r}")
        if self.atomic_blocks and getattr(self.atomic_blocks[0], "_from_testcase", False):
            # Under Django's TestCase the outermost transaction never commits: run the handler at once. Inside
            # the test's savepoints that is still all-or-nothing (a rolled-back block takes its rows with it).
            HANDLERS[handler](self, [item])
            return
        self.before_commit.append((set(self.savepoint_ids), handler, item))

    def _run_before_commit(self) -> None:
        pending, self.before_commit = self.before_commit, []
        if not pending:
            return
        grouped: dict[str, list] = {}
        for _sids, handler, item in pending:
            grouped.setdefault(handler, []).append(item)
        try:
            for handler, items in sorted(grouped.items(), key=lambda entry: entry[0] in LAST):
                HANDLERS[handler](self, items)
        except DatabaseError:
            raise
        except Exception as exc:
            # Atomic.__exit__ rolls back only on DatabaseError; anything else would leave the transaction open.
            raise DatabaseError(f"pre-commit handler failed: {exc!r}") from exc

    def commit(self):
        self._run_before_commit()
        self.transaction_memo = {}
        super().commit()

    def rollback(self):
        self.before_commit = []
        self.transaction_memo = {}
        super().rollback()

    def close(self):
        self.before_commit = []
        self.transaction_memo = {}
        super().close()

    def savepoint_rollback(self, sid):
        self.transaction_memo = {}
        super().savepoint_rollback(sid)
        self.before_commit = [entry for entry in self.before_commit if sid not in entry[0]]
