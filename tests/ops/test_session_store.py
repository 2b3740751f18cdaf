"""molar/session_store.py: Django's database sessions, read with one
statement composed once, and new keys drawn without a lookup."""

import datetime

import pytest
from django.conf import settings
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from molar import session_store
from molar.session_store import SessionStore

pytestmark = pytest.mark.django_db


def _saved(**data) -> str:
    store = SessionStore()
    store.update(data)
    store.save()
    return store.session_key


def test_the_settings_use_this_store():
    assert settings.SESSION_ENGINE == "molar.session_store"


def test_a_saved_session_is_read_back_with_one_query():
    key = _saved(_portal_account=7, note="é")
    store = SessionStore(key)
    with CaptureQueriesContext(connection) as queries:
        assert store.load() == {"_portal_account": 7, "note": "é"}
    assert len(queries) == 1
    assert store.session_key == key


def test_an_expired_session_is_not_read_and_its_key_is_not_reused():
    key = _saved(_portal_account=7)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    store = SessionStore(key)
    assert store.load() == {}
    assert store.session_key is None
    store["fresh"] = 1
    store.save()
    assert store.session_key != key
    assert Session.objects.get(session_key=key).get_decoded() == {"_portal_account": 7}  # untouched


def test_an_unknown_or_malformed_key_reads_nothing():
    assert SessionStore("a" * 32).load() == {}
    with CaptureQueriesContext(connection) as queries:
        assert SessionStore("short").load() == {}  # not a possible key: no query at all
    assert len(queries) == 0


def test_a_new_session_is_stored_without_asking_whether_its_key_is_taken():
    store = SessionStore()
    with CaptureQueriesContext(connection) as queries:
        store.create()
    sql = [query["sql"] for query in queries]
    assert not any(statement.lstrip().upper().startswith("SELECT") for statement in sql), sql
    assert sum(statement.lstrip().upper().startswith("INSERT") for statement in sql) == 1
    assert Session.objects.filter(session_key=store.session_key).exists()


def test_a_taken_key_is_never_overwritten_another_is_drawn(monkeypatch):
    taken = _saved(owner="someone else")
    draws = iter([taken, "z" * 32])
    monkeypatch.setattr(session_store, "get_random_string", lambda length, chars: next(draws))
    store = SessionStore()
    store.create()
    assert store.session_key == "z" * 32
    assert Session.objects.get(session_key=taken).get_decoded() == {"owner": "someone else"}


def test_a_new_key_keeps_the_data_deletes_the_old_row_and_writes_the_new_one_once():
    key = _saved(visited=1)
    store = SessionStore(key)
    store.load()

    store.cycle_key()

    assert not Session.objects.filter(session_key=key).exists()  # a copied cookie stops now
    assert store.session_key is None and store["visited"] == 1
    with CaptureQueriesContext(connection) as queries:
        store.save()
    writes = [q["sql"].split()[0] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "SELECT")]
    assert writes == ["INSERT"]
    assert store.session_key not in (None, key)
    assert Session.objects.get(session_key=store.session_key).get_decoded() == {"visited": 1}


# --- Outside a transaction (every request): one statement, no BEGIN/COMMIT ---


def _statements(queries) -> list[str]:
    return [query["sql"].split()[0].upper() for query in queries]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_new_session_is_one_insert_and_an_update_one_update():
    store = SessionStore()
    store["visited"] = 1
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert _statements(queries) == ["INSERT"]
    store["visited"] = 2
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert _statements(queries) == ["UPDATE"]
    assert Session.objects.get(session_key=store.session_key).get_decoded() == {"visited": 2}


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_taken_key_is_refused_and_another_drawn(monkeypatch):
    taken = _saved(owner="someone else")
    draws = iter([taken, "y" * 32])
    monkeypatch.setattr(session_store, "get_random_string", lambda length, chars: next(draws))
    store = SessionStore()
    store["mine"] = 1
    store.save()
    assert store.session_key == "y" * 32
    assert Session.objects.get(session_key=taken).get_decoded() == {"owner": "someone else"}
    # The refused INSERT left the connection usable.
    assert Session.objects.get(session_key="y" * 32).get_decoded() == {"mine": 1}


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_saving_a_session_deleted_meanwhile_is_an_update_error():
    key = _saved(visited=1)
    store = SessionStore(key)
    assert store["visited"] == 1  # read (and cached) before the row goes
    Session.objects.filter(session_key=key).delete()  # signed out in another tab
    store["visited"] = 2
    with pytest.raises(UpdateError):
        store.save()
    assert not Session.objects.filter(session_key=key).exists()  # not written back
