"""Django's PostgreSQL backend with a health check that sends no query.

With CONN_HEALTH_CHECKS, Django asks a reused connection `SELECT 1` before
the first query of every request, so a connection the server closed (a
restart, a failover, `pg_terminate_backend`, an idle timeout) is replaced
instead of failing the request. That is a round trip on every request: on
`/healthz` with a session cookie it doubled the queries (SPEC Q1: a
one-query page).

A connection at rest between requests receives nothing from the server
unless the server is closing it: it then sends its FATAL message and closes
the socket. So "is there anything to read on the socket?", asked of the
operating system without waiting, answers the same question with no round
trip. Nothing to read: usable. Something to read (nearly always the server
closing it, but a notification or a TLS message would do the same): then
Django's own `SELECT 1` decides, so a live connection is never replaced for
it. A closed or broken connection is unusable at once. A network that
drops silently is seen by neither check until the first query times out,
as before."""

import select

from django.db.backends.postgresql import base
from psycopg import pq


def _has_input(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        pgconn = connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        status = pgconn.transaction_status
        if status == pq.TransactionStatus.INTRANS:
            # Inside a transaction Django never replaces the connection; its
            # next query finds out. (A failed transaction, a command still
            # running or an unknown state is unusable, as `SELECT 1` finds.)
            return True
        if status != pq.TransactionStatus.IDLE:
            return False
        try:
            if not _has_input(pgconn.socket):
                return True
        except (OSError, ValueError):  # the socket is gone
            return False
        return bool(super().is_usable())
