"""SPEC T3-T5: events are plain INSERTs; the worker seals them into a hash
chain with signed checkpoints; `molar audit verify` names the first problem."""

import datetime
import json
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from molar.audit.chain import CONTENT_FIELDS, GENESIS, link_hash
from molar.audit.context import RequestContext, current
from molar.audit.models import AuditCheckpoint, AuditEvent, AuditSeal
from molar.audit.sealing import audit_seal
from molar.audit.services import Actor, audit_record, audit_record_many
from molar.audit.verify import audit_verify

from .tamper import past_the_triggers

DESK = Actor("staff", 7, "frontdesk")


def run(*args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue().strip(), err.getvalue().strip()
    except CommandError as exc:
        return 1, out.getvalue().strip(), str(exc)
    return 0, out.getvalue().strip(), err.getvalue().strip()


def verify(*args) -> tuple[int, str]:
    code, out, _ = run("verify", *args)
    return code, out


@pytest.fixture
def trail(db):
    events = [audit_record(action=f"action_{n}", actor=DESK, patient_id=n, detail={"n": n}) for n in range(5)]
    audit_seal()
    return events


def test_recording_an_event_is_one_insert_and_reads_nothing(db):
    audit_record(action="warm_up", actor=DESK)
    with CaptureQueriesContext(connection) as queries:
        audit_record(action="sign_in", actor=DESK, patient_id=3, detail={"a": 1})
    assert len(queries) == 1
    assert queries[0]["sql"].lstrip().upper().startswith('INSERT INTO "AUDIT_AUDITEVENT"')


def test_sealing_chains_every_event_in_order_from_zeros(trail):
    seals = list(AuditSeal.objects.order_by("position"))
    assert [s.position for s in seals] == [1, 2, 3, 4, 5]
    assert [s.event_id for s in seals] == [e.pk for e in trail]
    rows = {r["id"]: r for r in AuditEvent.objects.values(*CONTENT_FIELDS)}
    prev = GENESIS
    for seal in seals:
        assert seal.hash == link_hash(prev, rows[seal.event_id])
        prev = seal.hash


def test_every_seal_records_a_signed_checkpoint_of_the_chain_so_far(trail):
    checkpoint = AuditCheckpoint.objects.get()
    assert checkpoint.size == 5
    assert checkpoint.root == AuditSeal.objects.get(position=5).hash
    audit_record(action="later", actor=DESK)
    assert audit_seal().sealed == 1
    assert list(AuditCheckpoint.objects.values_list("size", flat=True)) == [5, 6]


def test_sealing_twice_seals_nothing_new(trail):
    assert audit_seal().sealed == 0
    assert AuditSeal.objects.count() == 5


def test_stored_event_hashes_the_same_when_read_back(db):
    token = current.set(RequestContext(request_id="r1", client_ip="2001:db8:0:0::1"))
    try:
        audit_record(
            action="sign_in", actor=DESK, patient_id=3, detail={"b": [1, 2.5, 1e20], "a": "é", "n": None}
        )
    finally:
        current.reset(token)
    audit_seal()
    assert verify() == (0, "OK: 1 sealed events")


def test_clean_trail_verifies(trail):
    assert verify() == (0, "OK: 5 sealed events")


def test_empty_trail_verifies(db):
    assert verify() == (0, "OK: 0 sealed events")


def test_row_altered_with_sql_is_named(trail):
    with past_the_triggers() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_label = 'someone else' WHERE id = %s", [trail[2].pk]
        )
    code, output = verify()
    when = trail[2].created_at.astimezone(datetime.UTC).isoformat(timespec="seconds")
    assert code == 1
    assert output == f"Altered: event {trail[2].pk} ({when} action_2) at position 3."


def test_detail_altered_with_sql_is_named(trail):
    with past_the_triggers() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET detail = %s WHERE id = %s", [json.dumps({"n": 99}), trail[1].pk]
        )
    assert verify()[1].startswith(f"Altered: event {trail[1].pk} ")


def test_deleted_event_is_named(trail):
    with past_the_triggers() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [trail[1].pk])
    assert verify() == (1, f"Missing: event {trail[1].pk} (sealed at position 2) is gone.")


def test_deleted_seal_in_the_middle_is_a_gap(trail):
    with past_the_triggers() as cursor:
        cursor.execute("DELETE FROM audit_auditseal WHERE position = 3")
    assert verify() == (1, "Missing: sealed events 3 to 3 are gone.")


def test_two_events_swapped_in_the_chain_are_caught(trail):
    first, second = AuditSeal.objects.get(position=2), AuditSeal.objects.get(position=3)
    with past_the_triggers() as cursor:
        cursor.execute("UPDATE audit_auditseal SET event_id = -1 WHERE position = 2")
        cursor.execute("UPDATE audit_auditseal SET event_id = %s WHERE position = 3", [first.event_id])
        cursor.execute("UPDATE audit_auditseal SET event_id = %s WHERE position = 2", [second.event_id])
    assert verify()[1].startswith(f"Altered: event {second.event_id} ")


def test_verify_walks_the_chain_in_chunks(trail):
    result = audit_verify(chunk=2)
    assert result.ok and result.checked == 5


def test_many_events_appended_at_once_are_sealed_like_the_others(trail):
    start = datetime.datetime(2025, 1, 6, 9, tzinfo=datetime.UTC)
    written = audit_record_many(
        (
            {
                "action": "sign_in",
                "actor_type": "patient",
                "patient_id": n,
                "created_at": start + datetime.timedelta(minutes=n),
            }
            for n in range(7)
        ),
        batch_size=3,
    )
    audit_record(action="after", actor=DESK)
    audit_seal()
    assert written == 7
    assert verify() == (0, "OK: 13 sealed events")


def test_seal_command_reports_what_it_sealed(db):
    audit_record(action="one", actor=DESK)
    audit_record(action="two", actor=DESK)
    assert run("seal")[:2] == (0, "Sealed 2 event(s).")
    assert run("seal")[:2] == (0, "Sealed 0 event(s).")


def test_unsealed_events_older_than_five_minutes_are_a_warning(db, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC))
    audit_record(action="old", actor=DESK)
    time_machine.move_to(datetime.datetime(2026, 3, 2, 9, 4, tzinfo=datetime.UTC))
    assert run("verify")[2] == ""
    time_machine.move_to(datetime.datetime(2026, 3, 2, 9, 6, tzinfo=datetime.UTC))
    code, out, err = run("verify")
    assert code == 0 and out == "OK: 0 sealed events"
    assert err == (
        "Warning: 1 audit event(s) older than 5 minutes are not sealed yet; is `molar worker` running?"
    )
    audit_seal()
    assert run("verify")[2] == ""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_event_committed_after_later_events_were_sealed_is_sealed_once():
    """SPEC T4: a transaction that stays open while later events are written
    and sealed still gets its event sealed, once, when it commits."""
    written, commit = threading.Event(), threading.Event()
    late = {}

    def slow_action():
        try:
            with transaction.atomic():
                late["event"] = audit_record(action="slow_action", actor=DESK)
                written.set()
                commit.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_action)
    thread.start()
    assert written.wait(timeout=30)
    later = [audit_record(action=f"later_{n}", actor=DESK) for n in range(3)]
    assert later[0].pk > late["event"].pk
    assert audit_seal().sealed == 3  # the open transaction does not hold the sealer up
    commit.set()
    thread.join(timeout=30)
    assert audit_seal().sealed == 1
    assert audit_seal().sealed == 0
    order = list(AuditSeal.objects.order_by("position").values_list("event_id", flat=True))
    assert order == [*(e.pk for e in later), late["event"].pk]
    assert verify() == (0, "OK: 4 sealed events")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_sealers_seal_every_event_exactly_once():
    stop = threading.Event()
    errors = []

    def write(i):
        try:
            barrier.wait()
            for n in range(25):
                with transaction.atomic():
                    audit_record(
                        action="sign_in", actor=Actor("patient", i, f"p{i}"), patient_id=i, detail={"n": n}
                    )
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    def seal():
        try:
            while not stop.is_set():
                audit_seal()
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    sealers = [threading.Thread(target=seal) for _ in range(2)]
    writers = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    barrier = threading.Barrier(len(writers))
    for thread in [*sealers, *writers]:
        thread.start()
    for thread in writers:
        thread.join(timeout=60)
    stop.set()
    for thread in sealers:
        thread.join(timeout=60)
    assert not errors
    audit_seal()
    assert AuditSeal.objects.count() == AuditEvent.objects.count() == 150
    assert verify() == (0, "OK: 150 sealed events")
