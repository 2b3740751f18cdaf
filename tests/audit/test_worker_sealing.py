"""SPEC T4/T7 in operation: the worker seals the trail and folds anonymous
refusals into events; /readyz warns about events left unsealed."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from molar.audit.models import AuditEvent, AuditSeal, DeniedTally
from molar.audit.services import Actor, audit_record
from molar.ops.models import WorkerHeartbeat
from molar.ops.worker import WorkerState, worker_turn

DESK = Actor("staff", 7, "frontdesk")


@pytest.mark.django_db(transaction=True)  # a turn starts by closing stale connections
def test_a_worker_turn_seals_what_has_committed():
    for n in range(3):
        audit_record(action=f"action_{n}", actor=DESK)
    worker_turn(WorkerState(name="t", started_at=timezone.now()), scan_every=60, batch=5)
    assert AuditSeal.objects.count() == AuditEvent.objects.count() >= 3


@pytest.mark.django_db(transaction=True)
def test_a_worker_turn_folds_finished_minutes_of_anonymous_refusals(time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 2, 9, 0, 5, tzinfo=datetime.UTC))
    for _ in range(5):
        Client(REMOTE_ADDR="203.0.113.7").get("/portal/messages/")
    time_machine.move_to(datetime.datetime(2026, 3, 2, 9, 1, 5, tzinfo=datetime.UTC))
    worker_turn(WorkerState(name="t", started_at=timezone.now()), scan_every=60, batch=5)
    denied = AuditEvent.objects.get(action="access_denied", client_ip="203.0.113.7")
    assert denied.detail["count"] == 5 and not DeniedTally.objects.exists()


@pytest.fixture
def heartbeat(db):
    now = timezone.now()
    WorkerHeartbeat.objects.create(name="w", started_at=now, last_seen=now)


def test_readyz_warns_about_events_unsealed_for_over_five_minutes(heartbeat, time_machine):
    start = timezone.now()
    time_machine.move_to(start - datetime.timedelta(minutes=10))
    audit_record(action="old", actor=DESK)
    time_machine.move_to(start)
    WorkerHeartbeat.objects.update(last_seen=timezone.now())
    response = Client().get("/readyz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "warning"
    assert body["checks"]["audit_sealing"]["detail"] == (
        "1 audit event(s) older than 5 minutes are not sealed yet; is `molar worker` running?"
    )
    from molar.audit.sealing import audit_seal

    audit_seal()
    assert Client().get("/readyz").json()["status"] == "ok"
