"""SPEC Q2 with I4's fault handling, against a real SMTP server: refusals are
retried with backoff and finally fail with the server's reason, a 5xx fails
at once, a timeout after DATA is "delivery unknown" and never sent twice, a
row a dead worker left `sending` fails once its lease has passed."""

import datetime
import smtplib

import pytest
from django.db import transaction

from molar.audit.models import AuditEvent
from molar.outbox.models import OutboxEmail
from molar.outbox.sending import INTERRUPTED, LEASE, RECORD_WITHIN
from molar.outbox.services import outbox_enqueue, outbox_prune, outbox_recover
from tests.smtp import free_port, send_outbox

T0 = datetime.datetime(2026, 3, 2, 14, 0, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)


def queue(to: str = "maria@example.com", kind: str = "new_message", **extra) -> OutboxEmail:
    with transaction.atomic():
        email = outbox_enqueue(
            kind=kind, to=to, subject="New message from Harbor", body="You have a new message.", **extra
        )
    OutboxEmail.objects.filter(pk=email.pk).update(next_attempt_at=T0)
    return email


def row(email: OutboxEmail) -> OutboxEmail:
    email.refresh_from_db()
    return email


def test_refused_recipient_fails_at_once_with_the_servers_reason(smtp, db):
    smtp.refuse_rcpt["nobody@example.com"] = "550 5.1.1 nobody@example.com: no such user here"
    email = queue(to="nobody@example.com")

    summary = send_outbox(now=T0)

    email = row(email)
    assert summary.failed == 1 and email.status == "failed" and email.attempts == 1
    assert email.reason.startswith("refused by the mail server: SMTPRecipientsRefused")
    assert "no such user here" in email.reason
    assert send_outbox(now=T0 + 2 * 60 * MINUTE).processed == 0  # never tried again
    assert smtp.mails == []
    failed = AuditEvent.objects.get(action="email_failed")
    assert failed.detail == {
        "email": "new message",
        "outbox": email.pk,
        "error": "refused by the mail server",
    }


def test_4xx_is_retried_after_the_backoff_then_sent_once(smtp, db):
    smtp.data_replies = ["451 4.3.0 Mailbox busy, try again later"]
    email = queue()

    assert send_outbox(now=T0).retried == 1
    email = row(email)
    assert email.status == "queued" and email.attempts == 1
    assert email.next_attempt_at == T0 + MINUTE
    assert email.reason.startswith("retrying: SMTPDataError: (451") and "Mailbox busy" in email.reason
    assert send_outbox(now=T0 + MINUTE - datetime.timedelta(seconds=1)).processed == 0

    assert send_outbox(now=T0 + MINUTE).sent == 1

    email = row(email)
    assert email.status == "sent" and email.attempts == 2 and email.sent_at is not None
    assert [mail.to for mail in smtp.mails] == [["maria@example.com"]]


def test_refused_five_times_fails_with_the_last_reason(smtp, db):
    smtp.data_replies = ["451 4.3.0 Try again later"] * 5
    email = queue()
    moment = T0
    for wait in (0, 1, 5, 15, 60):  # minutes: the backoff after tries 1 to 4
        moment += wait * MINUTE
        send_outbox(now=moment)
    email = row(email)
    assert email.status == "failed" and email.attempts == 5
    assert email.reason.startswith("could not send after 5 tries: SMTPDataError: (451")
    assert smtp.mails == []
    assert AuditEvent.objects.filter(action="email_failed", outcome="failure").count() == 1


def test_mail_server_down_is_retried(smtp, settings, db):
    settings.EMAIL_PORT = free_port()  # nothing listens there
    email = queue()
    assert send_outbox(now=T0).retried == 1
    email = row(email)
    assert email.status == "queued" and email.reason.startswith("retrying: ConnectionRefusedError")


def test_timeout_after_data_is_delivery_unknown_and_never_sent_again(smtp, settings, db):
    # The server has the whole message, but its "250" comes after the client
    # gave up: it may have been delivered (SPEC I4).
    settings.EMAIL_TIMEOUT = 0.5
    smtp.answer_late = 1.5
    email = queue()

    assert send_outbox(now=T0).failed == 1

    email = row(email)
    assert email.status == "failed" and email.reason.startswith("delivery unknown: ")
    assert "timed out" in email.reason
    assert send_outbox(now=T0 + 2 * 60 * MINUTE).processed == 0
    assert len(smtp.wait_for(1)) == 1


def test_dropped_connection_during_data_is_delivery_unknown(db, monkeypatch, smtp):
    def dropped(self, msg):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(smtplib.SMTP, "data", dropped)
    email = queue()
    assert send_outbox(now=T0).failed == 1
    assert row(email).reason.startswith("delivery unknown: SMTPServerDisconnected")


def test_row_left_sending_past_its_lease_fails_as_delivery_unknown(db):
    email = queue()
    OutboxEmail.objects.filter(pk=email.pk).update(status="sending", claimed_until=T0 + LEASE, attempts=1)
    assert outbox_recover(now=T0 + LEASE) == 0  # the lease has not passed yet
    assert outbox_recover(now=T0 + LEASE + datetime.timedelta(seconds=1)) == 1
    email = row(email)
    assert email.status == "failed" and email.reason == INTERRUPTED
    assert send_outbox(now=T0 + 2 * LEASE).processed == 0


def test_recording_is_retried_well_inside_the_lease():
    assert RECORD_WITHIN < LEASE.total_seconds() / 5


def test_the_health_summary_pdf_is_not_kept_once_sent(smtp, db, complete_patient):
    email = queue(
        to="dr.smith@otherclinic.example",
        kind="health_summary",
        patient_id=complete_patient.pk,
        attachment=("health-summary.pdf", b"%PDF-1.4 Periodontitis", "application/pdf"),
    )
    assert bytes(row(email).attachment) == b"%PDF-1.4 Periodontitis"
    send_outbox(now=T0)
    email = row(email)
    assert email.status == "sent" and email.attachment is None
    [mail] = smtp.mails
    assert mail.attachments == [("health-summary.pdf", "application/pdf", b"%PDF-1.4 Periodontitis")]


def test_reset_code_email_is_skipped_when_access_was_removed_before_sending(smtp, practice, complete_patient):
    from molar.access.services import access_provide, access_remove
    from molar.audit.services import Actor
    from molar.portal.services import portal_reset_request

    username = access_provide(patient=complete_patient, actor=Actor.system("test")).username
    portal_reset_request(username=username)
    access_remove(patient=complete_patient, actor=Actor.system("test"))

    assert send_outbox().skipped == 1

    email = OutboxEmail.objects.get()
    assert email.status == "skipped" and email.reason == "no access" and smtp.mails == []
    assert complete_patient.portal_account.reset_code_hash == ""


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused():
    # No action without its email and no email without its action (SPEC Q2).
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox_enqueue(kind="new_message", to="maria@example.com", subject="s", body="b")
    assert not OutboxEmail.objects.exists()


def test_finished_rows_are_pruned_after_30_days(db):
    done, waiting = queue(), queue()
    OutboxEmail.objects.filter(pk=done.pk).update(status="sent")
    OutboxEmail.objects.update(updated_at=T0)
    assert outbox_prune(now=T0 + datetime.timedelta(days=30)) == 0
    assert outbox_prune(now=T0 + datetime.timedelta(days=30, seconds=1)) == 1
    assert list(OutboxEmail.objects.values_list("pk", flat=True)) == [waiting.pk]


def test_transient_error_while_issuing_a_reset_code_leaves_the_email_queued(
    smtp, practice, complete_patient, monkeypatch
):
    # SPEC Q4: the claim rolls back whole and the worker tries again; the
    # email is neither failed nor half-issued.
    from django.db import OperationalError

    from molar.access import reset_codes
    from molar.access.services import access_provide
    from molar.audit.services import Actor
    from molar.portal.services import portal_reset_request

    username = access_provide(patient=complete_patient, actor=Actor.system("test")).username
    portal_reset_request(username=username)
    real, calls = reset_codes.access_reset_code_issue, []

    def blip_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("could not serialize access due to concurrent update")
        return real(**kwargs)

    monkeypatch.setattr(reset_codes, "access_reset_code_issue", blip_once)
    with pytest.raises(OperationalError):
        send_outbox()
    email = OutboxEmail.objects.get()
    assert (email.status, email.attempts, email.reason) == ("queued", 0, "")
    assert not AuditEvent.objects.filter(action="email_failed").exists()

    assert send_outbox().sent == 1
    assert row(email).attempts == 1 and len(smtp.mails) == 1
