"""Finding due invites and sending them exactly once (SPEC I1-I4).

The Invite table is the queue. A scan inserts one `queued` row per (rule,
appointment) that has come due; the unique constraint makes concurrent scans
harmless. A sender claims a row (and the rows of family members sharing its
email address) with row locks that other workers skip, issues credentials,
marks them `sending` and commits, then talks to the mail server, then marks
them `sent`. What an SMTP error means (retry with backoff, fail at once,
delivery unknown) and the lease recovery are molar.outbox.sending's rules,
shared with every other email. A transient database error while issuing
credentials rolls the whole claim back and is left to the worker to retry
(SPEC Q4): it never fails an invite."""

import logging
from datetime import datetime, timedelta

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from molar.access.activation import activation_issue
from molar.access.models import PortalAccount
from molar.access.services import AccessRefused, access_issue_one_time
from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record
from molar.outbox.sending import (
    LEASE,
    RECORD_WITHIN,
    Failure,
    Outcome,
    SendSummary,
    close_quietly,
    outcome,
    recover_stale,
    smtp_send,
)
from molar.patients.models import Appointment, Patient
from molar.practice.models import PracticeSettings
from molar.transient import is_transient, retry_transient

from .models import Invite, InviteRule
from .rendering import MASKED_PASSWORD, InviteValues, mask_username, render

logger = logging.getLogger(__name__)

AFTER_CATCH_UP = timedelta(hours=24)  # an "after" invite older than this is not sent late
BEFORE_GRACE = timedelta(hours=1)  # a "before" invite may still go out this soon after the start
SCAN_CHUNK = 2000
ACTOR = Actor.system("invites")
Q_ = Invite.Status


def _due_appointments(rule: InviteRule, now: datetime):
    """Appointments whose invite under `rule` is due now and not yet recorded.
    Range conditions on the indexed `start`, so the database reads only the
    window, not the whole table."""
    if rule.timing == InviteRule.Timing.BEFORE:
        rows = Appointment.objects.filter(start__gt=now - BEFORE_GRACE, start__lte=now + rule.offset,
                                          status=Appointment.Status.SCHEDULED)
    else:
        rows = Appointment.objects.filter(start__lte=now - rule.offset,
                                          start__gt=now - rule.offset - AFTER_CATCH_UP).exclude(
            status=Appointment.Status.BROKEN)
    recorded = Invite.objects.filter(rule=rule, appointment=OuterRef("pk"))
    return rows.filter(~Exists(recorded)).order_by().values_list("pk", "patient_id")


def invites_scan(*, now: datetime | None = None) -> int:
    """Record every invite that has come due; returns how many were new."""
    now = now or timezone.now()
    created = 0
    for rule in InviteRule.objects.filter(enabled=True):
        batch = []
        for appointment_id, patient_id in _due_appointments(rule, now).iterator(chunk_size=SCAN_CHUNK):
            batch.append(Invite(rule=rule, appointment_id=appointment_id, patient_id=patient_id,
                                next_attempt_at=now))
            if len(batch) >= SCAN_CHUNK:
                created += len(Invite.objects.bulk_create(batch, ignore_conflicts=True))
                batch = []
        if batch:
            created += len(Invite.objects.bulk_create(batch, ignore_conflicts=True))
    return created


def invites_recover(*, now: datetime | None = None) -> int:
    """Rows a dead worker left in `sending` become `failed`, never sent twice."""
    return recover_stale(Invite.objects, now=now or timezone.now())


def eligibility_words(messages: list[str]) -> str:
    if "Missing patient email." in messages:
        return "no email"
    return "; ".join(m.rstrip(".").replace("patient ", "").lower() for m in messages)


def _skip_reason(invite: Invite, practice: PracticeSettings, now: datetime) -> str:
    return skip_reason(patient=invite.patient, appointment=invite.appointment,
                       rule=invite.rule if invite.rule_id else _template(invite),
                       practice=practice, now=now)


def skip_reason(*, patient: Patient, appointment: Appointment | None, rule: InviteRule | None,
                practice: PracticeSettings, now: datetime) -> str:
    """Why an invite must not go out, in words staff understand; "" to send.
    (Eligibility problems surface when credentials are issued.)"""
    if not practice.portal_enabled:
        return "Patient Portal is not enabled"
    if not practice.patient_facing_url:
        return "no Patient Facing URL"
    if not practice.practice_email:
        return "no practice email"
    if rule is None:
        return "the invite rule was deleted"
    if patient.status in (Patient.Status.ARCHIVED, Patient.Status.DECEASED):
        return f"patient is {patient.get_status_display().lower()}"
    if appointment is not None and appointment.status == Appointment.Status.BROKEN:
        return "appointment broken"
    if not patient.email.strip():
        return "no email"
    account = PortalAccount.objects.filter(patient=patient).first()
    if account is not None and not account.has_access and account.removed_at is not None:
        return "access removed by staff"
    if account is not None and account.last_login is not None:
        if rule.mode == InviteRule.Mode.UNTIL_VISIT:
            return "already visited the portal"
        if rule.mode == InviteRule.Mode.NO_VISIT_IN_DAYS and \
                now - account.last_login < timedelta(days=rule.revisit_days):
            return f"visited the portal in the last {rule.revisit_days} days"
    return ""


def _values(invite: Invite, practice: PracticeSettings) -> InviteValues:
    """Issue credentials (SPEC I2) and the tag values for one family member."""
    patient = invite.patient
    credentials = access_issue_one_time(patient=patient, actor=ACTOR, source="invite")
    account = PortalAccount.objects.get(patient=patient)
    if credentials is not None:
        username, password = credentials.username, credentials.password
        link = practice.patient_facing_url.rstrip("/") + f"/activate/{activation_issue(account)}/"
    else:  # the patient has their own password: nothing secret goes out
        username, password = mask_username(account.username), MASKED_PASSWORD
        link = practice.patient_facing_url
    return InviteValues(
        first_name=patient.first_name, preferred_name=patient.preferred_name,
        office_name=practice.practice_name, office_phone=practice.practice_phone,
        appointment_start=invite.appointment.start if invite.appointment else None,
        username=username, password=password, portal_url=practice.patient_facing_url,
        activation_link=link,
    )


def _finish(invite: Invite, status: str, reason: str, now: datetime) -> None:
    invite.status, invite.reason, invite.claimed_until = status, reason[:300], None
    if status == Q_.SENT:
        invite.sent_at = now
    invite.save(update_fields=["status", "reason", "claimed_until", "sent_at", "updated_at"])
    audit_record(action=f"invite_{status}", actor=ACTOR, patient_id=invite.patient_id,
                 outcome=AuditEvent.Outcome.SUCCESS if status == Q_.SENT else AuditEvent.Outcome.FAILURE,
                 detail={"invite": invite.pk, "reason": reason} if reason else {"invite": invite.pk})


def _claim(worker: str, now: datetime, summary: SendSummary):
    """Claim the next due invite and its family members at the same address;
    returns (rule-like template source, [(invite, values)]) or None."""
    due = Invite.objects.filter(status=Q_.QUEUED, next_attempt_at__lte=now)
    lead = (due.select_for_update(skip_locked=True, of=("self",)).select_related("patient")
            .order_by("next_attempt_at", "id").first())
    if lead is None:
        return None
    group = [lead]
    if lead.patient.email.strip():
        siblings = due.exclude(pk=lead.pk).filter(
            rule_id=lead.rule_id, bulk_run_id=lead.bulk_run_id,
            patient__email__iexact=lead.patient.email.strip())
        group += list(siblings.select_for_update(skip_locked=True, of=("self",))
                      .order_by("id")[:20])
    practice = PracticeSettings.load()
    outgoing = []
    for invite in Invite.objects.select_related("patient", "appointment", "rule", "bulk_run__rule").filter(
            pk__in=[i.pk for i in group]).order_by("id"):
        reason = _skip_reason(invite, practice, now)
        values = None
        if not reason:
            try:
                with transaction.atomic():
                    values = _values(invite, practice)
            except AccessRefused as exc:
                reason = eligibility_words(exc.messages)
            except Exception as exc:  # noqa: BLE001 - one bad invite must not stop the queue
                if is_transient(exc):
                    raise  # SPEC Q4: the whole claim rolls back; the worker tries again
                logger.exception("Could not issue credentials for invite %s", invite.pk)
                _finish(invite, Q_.FAILED, f"could not issue credentials: {type(exc).__name__}", now)
                summary.failed += 1
                continue
        if reason:
            _finish(invite, Q_.SKIPPED, reason, now)
            summary.skipped += 1
            continue
        invite.status, invite.claimed_by = Q_.SENDING, worker
        invite.claimed_until, invite.recipient = now + LEASE, invite.patient.email.strip()
        invite.attempts += 1
        invite.save(update_fields=["status", "claimed_by", "claimed_until", "recipient", "attempts",
                                   "updated_at"])
        outgoing.append((invite, values))
    return practice, outgoing


def _template(invite: Invite) -> InviteRule | None:
    return invite.rule or (invite.bulk_run.rule if invite.bulk_run else None)


def _message(practice: PracticeSettings, outgoing) -> EmailMessage:
    rule = _template(outgoing[0][0])  # not None: skip_reason refused rule-less invites
    subject = render(rule.subject, outgoing[0][1]).replace("\n", " ")
    body = "\n\n----------\n\n".join(render(rule.body, values) for _, values in outgoing)
    return EmailMessage(subject=subject, body=body, to=[outgoing[0][0].recipient],
                        reply_to=[practice.practice_email] if practice.practice_email else None)


def invite_send_next(*, worker: str, connection, summary: SendSummary,
                     now: datetime | None = None) -> bool:
    """Claim, send and record one email (one recipient). False when nothing is due."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = _claim(worker, now, summary)
    if claimed is None:
        return False
    practice, outgoing = claimed
    if not outgoing:
        return True
    invites = [invite for invite, _ in outgoing]
    failure = smtp_send(_message(practice, outgoing), connection)
    if failure is not None:
        logger.warning("Invite email to patient(s) %s not sent: %s",
                       [i.patient_id for i in invites], failure.error.split(":")[0])
        summary.errors.append(failure.error)
    # SPEC I6: the server's answer is recorded even through a database blip.
    outcomes = retry_transient(lambda: _record(invites, failure, now), within=RECORD_WITHIN)
    for result in outcomes:
        summary.count(result)
    summary.emails += failure is None
    return True


def _record(invites: list[Invite], failure: Failure | None, now: datetime) -> list[Outcome]:
    """What the conversation means for each invite (each has its own count of
    tries), in one transaction."""
    results = []
    with transaction.atomic():
        for invite in invites:
            result = outcome(failure, attempts=invite.attempts, now=now)
            if result.status == Q_.QUEUED:
                invite.status, invite.claimed_until = Q_.QUEUED, None
                invite.next_attempt_at, invite.reason = result.retry_at, result.reason[:300]
                invite.save(update_fields=["status", "claimed_until", "next_attempt_at", "reason",
                                           "updated_at"])
            else:
                _finish(invite, result.status, result.reason, timezone.now())
            results.append(result)
    return results


def invites_send_due(*, worker: str, limit: int | None = None, now: datetime | None = None,
                     progress=None) -> SendSummary:
    """Send due invites until none is left (or `limit` emails were tried)."""
    summary = SendSummary()
    connection = get_connection()
    try:
        tried = 0
        while limit is None or tried < limit:
            if not invite_send_next(worker=worker, connection=connection, summary=summary, now=now):
                break
            tried += 1
            if progress:
                progress(summary)
    finally:
        close_quietly(connection)
    return summary
