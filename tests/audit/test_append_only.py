"""SPEC T6: the database itself refuses to change or remove audit records,
whoever asks, the table's owner included; the application refuses too."""

import pytest
from django.db import DatabaseError, connection, transaction

from molar.audit.models import AppendOnlyError, AuditEvent
from molar.audit.sealing import audit_seal
from molar.audit.services import Actor, audit_record

DESK = Actor("staff", 7, "frontdesk")
TABLES = ("audit_auditevent", "audit_auditseal", "audit_auditcheckpoint")


@pytest.fixture
def sealed(db):
    events = [audit_record(action=f"action_{n}", actor=DESK, patient_id=n) for n in range(3)]
    audit_seal()
    return events


def refused(sql: str, params=()) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(caught.value)


@pytest.mark.parametrize("table", TABLES)
def test_database_refuses_update(sealed, table):
    column = {"audit_auditevent": "action", "audit_auditseal": "hash", "audit_auditcheckpoint": "root"}[table]
    assert "append-only" in refused(f"UPDATE {table} SET {column} = 'x'")  # noqa: S608


@pytest.mark.parametrize("table", TABLES)
def test_database_refuses_delete(sealed, table):
    assert "append-only" in refused(f"DELETE FROM {table}")  # noqa: S608


@pytest.mark.postgres
@pytest.mark.parametrize("table", TABLES)
def test_postgresql_refuses_truncate_even_for_the_owner(sealed, table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableowner = current_user FROM pg_tables WHERE tablename = %s", [table])
        assert cursor.fetchone() == (True,)  # we are the owner (and more), and still:
    assert "append-only" in refused(f"TRUNCATE {table} CASCADE")


def test_records_survive_the_refusals(sealed):
    refused("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.count() == 3


def test_inserts_still_work(sealed):
    audit_record(action="after", actor=DESK)
    assert AuditEvent.objects.count() == 4


@pytest.mark.postgres
def test_postgresql_stamps_each_event_with_its_transaction_id(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        (txid,) = cursor.fetchone()
    event = audit_record(action="a", actor=DESK)
    assert AuditEvent.objects.get(pk=event.pk).txid == txid


def test_application_cannot_change_or_delete_events(sealed):
    event = AuditEvent.objects.get(pk=sealed[0].pk)
    event.action = "something else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["action"])
