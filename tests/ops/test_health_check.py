"""molar/postgresql/base.py: a reused PostgreSQL connection is checked before
each request's first query without a round trip, and one the server closed
is replaced, so the request succeeds instead of answering 503."""

import time

import pytest
from django.db import close_old_connections, connection

from molar.postgresql.base import _has_input
from tests.postgres import second_connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def terminate_from_elsewhere(pid: int) -> None:
    with second_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        # Until the backend is gone, its FATAL message may not have arrived.
        for _ in range(100):
            if not other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                return
            time.sleep(0.02)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_the_check_sends_nothing_to_the_server():
    connection.ensure_connection()
    raw = connection.connection

    def no_query(*args, **kwargs):
        raise AssertionError("the health check sent a query")

    raw.execute = no_query  # the psycopg connection Django's check would use
    raw.cursor = no_query
    try:
        assert connection.is_usable()
    finally:
        del raw.execute, raw.cursor


def test_a_connection_the_server_closed_is_unusable_and_replaced():
    before = backend_pid()
    assert connection.is_usable()

    terminate_from_elsewhere(before)

    assert not connection.is_usable()
    connection.health_check_done = False  # as at the start of a request
    connection.close_if_health_check_failed()
    assert backend_pid() != before


def test_a_request_after_the_server_closed_the_connection_succeeds(practice, desk_client, make_patient):
    patient = make_patient(first_name="Ana", last_name="Ruiz")
    assert desk_client.get(f"/staff/patients/{patient.pk}/").status_code == 200
    terminate_from_elsewhere(backend_pid())
    # What every request begins with (the request_started signal, which
    # Django's test client leaves out): the connection is checked again.
    close_old_connections()

    answer = desk_client.get(f"/staff/patients/{patient.pk}/")

    assert answer.status_code == 200
    assert b"Ana" in answer.content


def test_a_live_connection_with_something_to_read_is_asked_and_kept():
    """A notification (like a TLS message) makes a live connection readable:
    then the server is asked, and the connection stays."""
    before = backend_pid()
    raw = connection.connection
    raw.execute("LISTEN molar_health_check_test")
    with second_connection() as other:
        other.execute("NOTIFY molar_health_check_test")
        other_pid = other.info.backend_pid
    for _ in range(100):  # until it has arrived
        if _has_input(raw.pgconn.socket):
            break
        time.sleep(0.02)
    assert _has_input(raw.pgconn.socket)
    asked = []
    real_cursor = raw.cursor

    def cursor(*args, **kwargs):
        asked.append(1)
        return real_cursor(*args, **kwargs)

    raw.cursor = cursor
    try:
        assert connection.is_usable()
    finally:
        del raw.cursor
        raw.execute("UNLISTEN *")
    assert asked == [1] and backend_pid() == before != other_pid


def test_a_closed_or_missing_connection_is_unusable():
    connection.ensure_connection()
    connection.connection.close()
    assert not connection.is_usable()
    connection.close()
    assert not connection.is_usable()
