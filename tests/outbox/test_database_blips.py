"""SPEC I6, Q4: once the SMTP server took a message, a transient database error
while recording `sent` is retried, so a delivered invite or outbox email ends
`sent`, not failed, and is not sent again. The fault is injected exactly at
that point: the function that records the answer fails first; on PostgreSQL
the worker's connection is also really cut by the server."""

import datetime

import pytest
from django.db import OperationalError, connection, transaction

from molar.audit.services import Actor
from molar.invites import delivery
from molar.invites.models import Invite
from molar.invites.services import invite_rule_create
from molar.outbox import services as outbox
from molar.outbox.models import OutboxEmail
from molar.patients.models import Appointment
from tests.postgres import second_connection
from tests.smtp import send_outbox

DAY = datetime.timedelta(days=1)


def queue_invite(complete_patient) -> Invite:
    invite_rule_create(actor=Actor.system("test"), timing="before", enabled=True)
    Appointment.objects.create(patient=complete_patient, start=datetime.datetime.now(datetime.UTC) + 2 * DAY)
    assert delivery.invites_scan() == 1
    return Invite.objects.get()


def queue_email(complete_patient) -> OutboxEmail:
    with transaction.atomic():
        return outbox.outbox_enqueue(
            kind="new_message",
            to=complete_patient.email,
            subject="New message from Harbor",
            body="Sign in to read it.",
            patient_id=complete_patient.pk,
        )


def send(kind: str):
    if kind == "invite":
        return delivery.invites_send_due(worker="test")
    return send_outbox()


CASES = {"invite": (delivery, queue_invite), "outbox email": (outbox, queue_email)}


def failing_first(monkeypatch, module, times: int, fault=None) -> list[int]:
    """Make module._record (the write after the server said 250) fail `times`
    times: with `fault()` if given, else an OperationalError."""
    real, calls = module._record, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) <= times:
            if fault is None:
                raise OperationalError("deadlock detected")
            fault()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "_record", flaky)
    return calls


@pytest.mark.parametrize("kind", CASES)
def test_sent_is_recorded_through_transient_errors(kind, smtp, practice, complete_patient, monkeypatch):
    module, make = CASES[kind]
    item = make(complete_patient)
    calls = failing_first(monkeypatch, module, 3)

    summary = send("invite" if kind == "invite" else "outbox")

    item.refresh_from_db()
    assert len(calls) == 4 and summary.sent == 1 and summary.failed == 0
    assert item.status == "sent" and item.attempts == 1
    assert [mail.to for mail in smtp.mails] == [[complete_patient.email]]
    assert send("invite" if kind == "invite" else "outbox").processed == 0


@pytest.mark.parametrize("kind", CASES)
def test_a_database_down_for_longer_leaves_the_row_to_the_lease(
    kind, smtp, practice, complete_patient, monkeypatch
):
    # Past the retry budget the error goes up to the worker loop; the row
    # stays `sending` and, after its lease, ends "delivery unknown", not resent.
    module, make = CASES[kind]
    item = make(complete_patient)
    monkeypatch.setattr(module, "RECORD_WITHIN", 0.2)
    failing_first(monkeypatch, module, 1000)

    with pytest.raises(OperationalError):
        send("invite" if kind == "invite" else "outbox")

    item.refresh_from_db()
    assert item.status == "sending" and len(smtp.mails) == 1
    recover = delivery.invites_recover if kind == "invite" else outbox.outbox_recover
    assert recover(now=item.claimed_until + datetime.timedelta(seconds=1)) == 1
    item.refresh_from_db()
    assert item.status == "failed" and item.reason.startswith("interrupted while sending")


def cut_my_connection() -> None:
    """The server ends this worker's session, as a restart or failover would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pid] = cursor.fetchone()
    with second_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", CASES)
def test_sent_is_recorded_after_the_database_cut_the_connection(
    kind, smtp, practice, complete_patient, monkeypatch
):
    module, make = CASES[kind]
    item = make(complete_patient)
    calls = failing_first(monkeypatch, module, 1, fault=cut_my_connection)

    summary = send("invite" if kind == "invite" else "outbox")

    item.refresh_from_db()
    assert len(calls) == 2 and summary.sent == 1
    assert item.status == "sent" and item.attempts == 1
    assert len(smtp.mails) == 1
