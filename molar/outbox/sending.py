"""One SMTP conversation per email, and what its failure means (SPEC I4, Q2).
Invites and outbox emails both go through here, so they share one set of
rules:

- A row is claimed with a lease, marked `sending` and committed before the
  conversation, and recorded after it; the conversation never runs inside a
  transaction.
- The server said "no" (or could not be reached): nothing went out, so it is
  tried again later with growing delays, and after MAX_ATTEMPTS it is
  `failed` with the server's words. A 5xx "no" fails at once: the server
  would refuse the same message next time.
- A timeout or a dropped connection once the conversation had begun may have
  come after the server took the message: delivery is unknown, and the row is
  `failed`, never sent twice.
- A worker that dies mid-conversation leaves its row `sending`; once the lease
  has passed, `recover_stale` marks it failed "delivery unknown".
- Once the server took the message, recording `sent` is retried through
  transient database errors for RECORD_WITHIN seconds (SPEC I6), well inside
  the lease, so a delivered email is not later taken for an interrupted one."""

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db.models import QuerySet

from .models import DeliveryStatus

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 5
BACKOFF_MINUTES = (1, 5, 15, 60)  # after attempt 1, 2, 3, 4
RECORD_WITHIN = 60.0  # seconds; LEASE is 600
INTERRUPTED = "interrupted while sending; delivery unknown"

# The server answered "no" to the sender, the recipients or the message: it
# was not delivered, so trying again cannot make a duplicate.
REFUSED = (
    smtplib.SMTPSenderRefused,
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPDataError,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError,
)


@dataclass(frozen=True)
class Failure:
    """Why one conversation did not deliver the message."""

    error: str  # "SMTPDataError: (451, b'Try again later')", never the message
    sent_nothing: bool
    permanent: bool


@dataclass(frozen=True)
class Outcome:
    """What to record on the row after a conversation."""

    status: str
    reason: str = ""
    retry_at: datetime | None = None


@dataclass
class SendSummary:
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0
    emails: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.sent + self.skipped + self.retried + self.failed

    def count(self, outcome: Outcome) -> None:
        if outcome.status == DeliveryStatus.SENT:
            self.sent += 1
        elif outcome.status == DeliveryStatus.QUEUED:
            self.retried += 1
        else:
            self.failed += 1


def sent_nothing(exc: Exception, connection: BaseEmailBackend) -> bool:
    """True when the message certainly did not go out. A timeout or a dropped
    connection after the connection was open may have come after the server
    took the message: delivery is unknown then (SPEC I4: never twice)."""
    if isinstance(exc, REFUSED):
        return True
    never_connected = getattr(connection, "connection", None) is None
    return never_connected and isinstance(exc, OSError | smtplib.SMTPException)


def permanent(exc: Exception) -> bool:
    """A 5xx answer: the server will refuse the same message next time too."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, REFUSED) and getattr(exc, "smtp_code", 0) >= 500


def smtp_send(message: EmailMessage, connection: BaseEmailBackend) -> Failure | None:
    """One conversation on a fresh connection; None when the server took it."""
    try:
        connection.open()  # a failure here sent nothing: safe to try again
        message.connection = connection
        message.send()
    except Exception as exc:  # noqa: BLE001 - every SMTP/socket error is classified here
        return Failure(
            error=f"{type(exc).__name__}: {exc}"[:200],
            sent_nothing=sent_nothing(exc, connection),
            permanent=permanent(exc),
        )
    finally:
        # One connection per email: an error on an open connection counts as
        # "delivery unknown", so it must not be one the server closed after
        # the previous email.
        close_quietly(connection)
    return None


def close_quietly(connection: BaseEmailBackend) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001, S110 - a broken connection may fail to close too
        pass


def send_due(
    send_next: Callable[..., bool],
    *,
    worker: str,
    limit: int | None,
    now: datetime | None,
    progress: Callable[[SendSummary], object] | None,
) -> SendSummary:
    """Claim and send one row at a time over one SMTP connection until
    `send_next` finds none due (or `limit` rows were tried): the loop invites
    and outbox emails share."""
    summary = SendSummary()
    connection = get_connection()
    try:
        tried = 0
        while limit is None or tried < limit:
            if not send_next(worker=worker, connection=connection, summary=summary, now=now):
                break
            tried += 1
            if progress:
                progress(summary)
    finally:
        close_quietly(connection)
    return summary


def outcome(failure: Failure | None, *, attempts: int, now: datetime) -> Outcome:
    """The row's next state after its `attempts`-th conversation."""
    if failure is None:
        return Outcome(DeliveryStatus.SENT)
    if not failure.sent_nothing:
        return Outcome(DeliveryStatus.FAILED, f"delivery unknown: {failure.error}")
    if failure.permanent:
        return Outcome(DeliveryStatus.FAILED, f"refused by the mail server: {failure.error}")
    if attempts >= MAX_ATTEMPTS:
        return Outcome(DeliveryStatus.FAILED, f"could not send after {attempts} tries: {failure.error}")
    delay = BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1]
    return Outcome(DeliveryStatus.QUEUED, f"retrying: {failure.error}", now + timedelta(minutes=delay))


def recover_stale(queryset: QuerySet, *, now: datetime) -> int:
    """Rows a dead worker left in `sending` become `failed`, never sent twice."""
    stale = queryset.filter(status=DeliveryStatus.SENDING, claimed_until__lt=now)
    return stale.update(status=DeliveryStatus.FAILED, updated_at=now, reason=INTERRUPTED)
