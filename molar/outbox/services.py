"""Queueing and sending the outbox's emails (SPEC Q2).

`outbox_enqueue` is called by the service that does the action, inside its
transaction: no action without its email, no email without its action, and
the request never talks SMTP. The worker's `outbox_send_due` claims one row at
a time with a row lock other workers skip, marks it `sending` with a lease and
commits, holds one SMTP conversation, and records the answer by the rules in
sending.py (the same as for invites, SPEC I4).

A reset code is made only when its email is sent: the claim transaction puts
the code's hash on the account, the code itself goes into the message and
nowhere else (SPEC L3, C4). The hash is computed before that transaction,
never under its lock."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone

from molar.access import reset_codes
from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record
from molar.transient import retry_transient

from .models import RESET_CODE_SLOT, OutboxEmail
from .sending import (
    LEASE,
    RECORD_WITHIN,
    Failure,
    Outcome,
    SendSummary,
    outcome,
    recover_stale,
    send_due,
    smtp_send,
)

logger = logging.getLogger(__name__)

ACTOR = Actor.system("outbox")
S = OutboxEmail.Status
Kind = OutboxEmail.Kind
FINAL = (S.SENT, S.SKIPPED, S.FAILED)
# Finished rows are kept this long for troubleshooting; the audit trail keeps
# what was done (reset requested, summary transmitted) for good.
KEEP_FINISHED = timedelta(days=30)
_NEEDS_CODE = object()


def outbox_enqueue(
    *,
    kind: str,
    to: str,
    subject: str,
    body: str,
    patient_id: int | None = None,
    attachment: tuple[str, bytes, str] | None = None,
    skipped: str = "",
) -> OutboxEmail:
    """Queue one email (`attachment` is (filename, content, mimetype)).
    `skipped`: the row is written already skipped with this reason, never
    sent (a request that must write the same rows whatever it decided, K3)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue belongs inside the transaction of the action (SPEC Q2).")
    name, content, mimetype = attachment or ("", None, "")
    return OutboxEmail.objects.create(
        kind=kind,
        patient_id=patient_id,
        recipient=to.strip(),
        subject=" ".join(subject.split())[:300],
        body=body,
        attachment_name=name,
        attachment=content,
        attachment_type=mimetype,
        next_attempt_at=timezone.now(),
        status=S.SKIPPED if skipped else S.QUEUED,
        reason=skipped[:300],
    )


def outbox_recover(*, now: datetime | None = None) -> int:
    return recover_stale(OutboxEmail.objects.all(), now=now or timezone.now())


def outbox_prune(*, now: datetime | None = None) -> int:
    """Delete finished rows older than KEEP_FINISHED (a periodic job)."""
    old = (now or timezone.now()) - KEEP_FINISHED
    deleted, _ = OutboxEmail.objects.filter(status__in=FINAL, updated_at__lt=old).delete()
    return deleted


def outbox_send_due(
    *,
    worker: str,
    limit: int | None = None,
    now: datetime | None = None,
    progress: Callable[[SendSummary], object] | None = None,
) -> SendSummary:
    """Send due emails until none is left (or `limit` rows were tried)."""
    return send_due(outbox_send_next, worker=worker, limit=limit, now=now, progress=progress)


def outbox_send_next(
    *, worker: str, connection: BaseEmailBackend, summary: SendSummary, now: datetime | None = None
) -> bool:
    """Claim, send and record one email. False when nothing is due."""
    now = now or timezone.now()
    code = None
    with transaction.atomic():
        row = _claim(worker, now, code, summary)
    if row is _NEEDS_CODE:  # made outside the transaction, then claimed again
        code = reset_codes.access_reset_code_prepare()
        with transaction.atomic():
            row = _claim(worker, now, code, summary)
    if row is None:
        return False
    assert isinstance(row, OutboxEmail)  # with a code ready, never _NEEDS_CODE
    if row.status != S.SENDING:
        return True
    failure = smtp_send(_message(row, code), connection)
    if failure is not None:
        logger.warning("Outbox email %s (%s) not sent: %s", row.pk, row.kind, failure.error.split(":")[0])
        summary.errors.append(failure.error)
    # SPEC I6: the server's answer is recorded even through a database blip.
    result = retry_transient(lambda: _record(row, failure, now), within=RECORD_WITHIN)
    summary.count(result)
    summary.emails += failure is None
    return True


def _claim(
    worker: str, now: datetime, code: tuple[str, str] | None, summary: SendSummary
) -> OutboxEmail | object | None:
    """The next due row, now `sending` (or `skipped`); None when nothing is
    due; _NEEDS_CODE when it is a reset code email and no code is ready."""
    row = (
        OutboxEmail.objects.filter(status=S.QUEUED, next_attempt_at__lte=now)
        .select_for_update(skip_locked=True)
        .order_by("next_attempt_at", "id")
        .first()
    )
    if row is None:
        return None
    if row.kind == Kind.RESET_CODE:
        if code is None:
            return _NEEDS_CODE
        refusal = reset_codes.access_reset_code_issue(patient_id=row.patient_id, code_hash=code[1], now=now)
        if refusal:
            _finish(row, S.SKIPPED, refusal, now)
            summary.skipped += 1
            return row
    row.status, row.claimed_by, row.claimed_until = S.SENDING, worker, now + LEASE
    row.attempts += 1
    row.save(update_fields=["status", "claimed_by", "claimed_until", "attempts", "updated_at"])
    return row


def _message(row: OutboxEmail, code: tuple[str, str] | None) -> EmailMessage:
    body = row.body
    if row.kind == Kind.RESET_CODE:
        assert code is not None  # _claim hands out a reset code email only with its code
        body = body.replace(RESET_CODE_SLOT, code[0])
    message = EmailMessage(row.subject, body, None, [row.recipient])
    if row.attachment is not None:
        message.attach(row.attachment_name, bytes(row.attachment), row.attachment_type)
    return message


def _record(row: OutboxEmail, failure: Failure | None, now: datetime) -> Outcome:
    result = outcome(failure, attempts=row.attempts, now=now)
    with transaction.atomic():
        if result.status == S.QUEUED:
            assert result.retry_at is not None  # outcome() sets it for every retry
            row.status, row.claimed_until = S.QUEUED, None
            row.next_attempt_at, row.reason = result.retry_at, result.reason[:300]
            row.save(update_fields=["status", "claimed_until", "next_attempt_at", "reason", "updated_at"])
        else:
            _finish(row, result.status, result.reason, timezone.now())
    return result


def _finish(row: OutboxEmail, status: str, reason: str, now: datetime) -> None:
    row.status, row.reason, row.claimed_until = status, reason[:300], None
    if status == S.SENT:
        row.sent_at = now
    if row.kind == Kind.HEALTH_SUMMARY:
        # The PDF is the patient's health information. Once the email is
        # final nothing needs it again (sending once more is a new request,
        # and the transmit is in the audit trail), so it does not stay in
        # the database, its backups and dumps longer than sending takes.
        row.attachment = None
    row.save(update_fields=["status", "reason", "claimed_until", "sent_at", "attachment", "updated_at"])
    if status != S.SENT:
        # The first words of the reason only: no address, no server text.
        audit_record(
            action="email_failed",
            actor=ACTOR,
            patient_id=row.patient_id,
            outcome=AuditEvent.Outcome.FAILURE,
            detail={"email": row.kind.replace("_", " "), "outbox": row.pk, "error": reason.split(":")[0]},
        )
