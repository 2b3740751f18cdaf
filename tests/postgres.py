"""A second PostgreSQL connection to the test database, beside Django's own:
for ending Django's session from outside, as a restart or failover would,
or for sending it a notification; and whether a row is locked meanwhile."""

import psycopg
from django.db import connection


def second_connection() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    )


def row_is_locked(table: str, pk: int) -> bool:
    """Whether another transaction holds a lock on that row: a second
    connection tries to lock it, waiting at most 200 ms (and, in autocommit,
    lets it go at once)."""
    with second_connection() as other:
        other.execute("SET lock_timeout = '200ms'")
        try:
            other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [pk])  # noqa: S608 (test tables)
        except psycopg.errors.LockNotAvailable:
            return True
    return False
