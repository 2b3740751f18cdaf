"""Transient database errors (SPEC Q4, I6): a deadlock, a serialization
failure, a lost or refused connection, a statement timeout, SQLite's "database
is locked". The same work may well succeed a moment later, so the worker
retries it and the web answers 503 "try again"; nothing is marked failed
because of one.

A project-level module so that any app can ask `is_transient(exc)` without
importing the worker."""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Django wraps every driver's errors in its own classes: psycopg's
# DeadlockDetected, SerializationFailure, QueryCanceled and lost connections,
# and sqlite3's "database is locked", all arrive as one of these two.
TRANSIENT = (OperationalError, InterfaceError)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT)


def _drop_connection(using: str) -> None:
    """Close a possibly broken connection so the next query opens a new one.
    Inside an outer transaction (a test's, say) the connection must stay:
    the failed savepoint was already rolled back and the retry reuses it."""
    connection = connections[using]
    if connection.in_atomic_block:
        return
    try:
        connection.close()
    except Exception:  # noqa: BLE001, S110 - a broken connection may fail to close too
        pass


def retry_transient(
    work: Callable[[], T],
    *,
    within: float,
    using: str = "default",
    first_wait: float = 0.05,
    max_wait: float = 2.0,
) -> T:
    """`work()`, run again after a transient database error until it succeeds
    or `within` seconds have passed (then the last error is raised). `work`
    must be its own transaction, so a failed try leaves nothing behind."""
    deadline = time.monotonic() + within
    wait = first_wait
    while True:
        try:
            return work()
        except TRANSIENT as exc:
            if time.monotonic() + wait > deadline:
                raise
            logger.warning("Database error (%s); trying again in %.2f s", type(exc).__name__, wait)
            _drop_connection(using)
            time.sleep(wait)
            wait = min(wait * 2, max_wait)
