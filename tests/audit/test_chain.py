"""SPEC T2: events are append-only for the application, and a hash chain lets
`molar audit verify` name the first row altered behind its back."""

import datetime
import json
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from molar.audit.chain import GENESIS, chain_verify, event_hash
from molar.audit.context import RequestContext, current
from molar.audit.models import AppendOnlyError, AuditEvent
from molar.audit.services import Actor, audit_record, audit_record_many

DESK = Actor("staff", 7, "frontdesk")


def verify() -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("audit", "verify", stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue().strip()
    return 0, out.getvalue().strip()


@pytest.fixture
def trail(db):
    return [audit_record(action=f"action_{n}", actor=DESK, patient_id=n, detail={"n": n})
            for n in range(5)]


def test_first_event_chains_to_zeros_and_each_next_to_the_one_before(trail):
    assert trail[0].prev_hash == GENESIS
    assert [e.prev_hash for e in trail[1:]] == [e.hash for e in trail[:-1]]
    assert all(len(e.hash) == 64 and int(e.hash, 16) >= 0 for e in trail)


def test_stored_event_hashes_the_same_when_read_back(db):
    token = current.set(RequestContext(request_id="r1", client_ip="2001:db8:0:0::1"))
    try:
        event = audit_record(action="sign_in", actor=DESK, patient_id=3,
                             detail={"b": [1, 2.5, 1e20], "a": "é", "n": None})
    finally:
        current.reset(token)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.created_at == event.created_at  # microseconds survive
    assert event_hash(stored.prev_hash, stored) == stored.hash


def test_clean_trail_verifies(trail):
    assert verify() == (0, "OK: 5 events")


def test_empty_trail_verifies(db):
    assert verify() == (0, "OK: 0 events")


def test_row_altered_with_sql_is_named(trail):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_label = 'someone else' WHERE id = %s",
                       [trail[2].pk])
    code, output = verify()
    when = trail[2].created_at.astimezone(datetime.UTC).isoformat(timespec="seconds")
    assert code == 1
    assert output == f"Altered: event {trail[2].pk} ({when} action_2)"


def test_detail_altered_with_sql_is_named(trail):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET detail = %s WHERE id = %s",
                       [json.dumps({"n": 99}), trail[1].pk])
    assert verify()[1].startswith(f"Altered: event {trail[1].pk} ")


def test_row_rehashed_after_change_is_caught_at_the_next_link(trail):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'x', hash = %s WHERE id = %s",
                       ["f" * 64, trail[3].pk])
    assert verify()[1].startswith(f"Altered: event {trail[3].pk} ")


def test_deleted_row_is_named_by_the_row_after_it(trail):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [trail[1].pk])
    code, output = verify()
    assert code == 1 and output.startswith(f"Altered: event {trail[2].pk} ")


def test_deleted_first_row_is_caught(trail):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [trail[0].pk])
    assert verify()[1].startswith(f"Altered: event {trail[1].pk} ")


def test_verify_walks_the_trail_in_chunks(trail):
    result = chain_verify(chunk=2)
    assert result.checked == 5 and result.altered is None


def test_application_cannot_change_or_delete_events(trail):
    event = AuditEvent.objects.get(pk=trail[0].pk)
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
    assert verify()[0] == 0


def test_events_cannot_be_written_around_the_chain(db):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.create(action="forged", actor_type="system")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_create([AuditEvent(action="forged", actor_type="system")])


def test_many_events_appended_at_once_continue_the_chain(trail):
    start = datetime.datetime(2025, 1, 6, 9, tzinfo=datetime.UTC)
    written = audit_record_many(
        ({"action": "sign_in", "actor_type": "patient", "patient_id": n,
          "created_at": start + datetime.timedelta(minutes=n)} for n in range(7)), batch_size=3)
    audit_record(action="after", actor=DESK)
    assert written == 7
    assert verify() == (0, "OK: 13 events")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_share_a_predecessor():
    barrier = threading.Barrier(8)
    errors = []

    def write(i):
        try:
            barrier.wait()
            for n in range(25):
                audit_record(action="sign_in", actor=Actor("patient", i, f"p{i}"), patient_id=i,
                             detail={"n": n})
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(prev_hashes) == len(set(prev_hashes)) == 200
    assert verify() == (0, "OK: 200 events")
