"""Finding due invites and sending them exactly once (SPEC I1-I4).

The Invite table is the queue. A scan inserts one `queued` row per (rule,
appointment) that has come due; the unique constraint makes concurrent scans
harmless. A sender claims a row (and the rows of family members sharing its
email address) with row locks that other workers skip, marks them `sending`
and commits; then issues credentials, each in its own short transaction
after its password was hashed (SPEC Q2); then talks to the mail server;
then records the answer. Access given by an invite counts as provided when
the mail server takes the email; if the email finally fails, the
credentials nobody received are voided (SPEC I6). What an SMTP error means (retry with backoff, fail at once,
delivery unknown) and the lease recovery are molar.outbox.sending's rules,
shared with every other email. A transient database error while issuing
credentials rolls the whole claim back and is left to the worker to retry
(SPEC Q4): it never fails an invite."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from molar.access.activation import activation_issue
from molar.access.models import PortalAccount
from molar.access.services import (
    Issued,
    access_delivery_accepted,
    access_delivery_failed,
    access_issue_for_delivery,
)
from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record
from molar.i18n import patient_language
from molar.outbox.sending import (
    INTERRUPTED,
    LEASE,
    RECORD_WITHIN,
    Failure,
    Outcome,
    SendSummary,
    outcome,
    send_due,
    smtp_send,
)
from molar.patients.models import Appointment, Patient
from molar.practice.models import PracticeSettings
from molar.refusal import Refused
from molar.transient import is_transient, retry_transient

from .models import Invite, InviteRule
from .rendering import MASKED_PASSWORD, InviteValues, mask_username, render

logger = logging.getLogger(__name__)

AFTER_CATCH_UP = timedelta(hours=24)  # an "after" invite older than this is not sent late
BEFORE_GRACE = timedelta(hours=1)  # a "before" invite may still go out this soon after the start
SCAN_CHUNK = 2000
ACTOR = Actor.system("invites")
Q_ = Invite.Status


def _due_appointments(rule: InviteRule, now: datetime) -> QuerySet[Appointment, tuple[int, int]]:
    """Appointments whose invite under `rule` is due now and not yet recorded.
    Range conditions on the indexed `start`, so the database reads only the
    window, not the whole table."""
    if rule.timing == InviteRule.Timing.BEFORE:
        rows = Appointment.objects.filter(
            start__gt=now - BEFORE_GRACE, start__lte=now + rule.offset, status=Appointment.Status.SCHEDULED
        )
    else:
        rows = Appointment.objects.filter(
            start__lte=now - rule.offset, start__gt=now - rule.offset - AFTER_CATCH_UP
        ).exclude(status=Appointment.Status.BROKEN)
    recorded = Invite.objects.filter(rule=rule, appointment=OuterRef("pk"))
    return rows.filter(~Exists(recorded)).order_by().values_list("pk", "patient_id")


def invites_scan(*, now: datetime | None = None) -> int:
    """Record every invite that has come due; returns how many were new."""
    now = now or timezone.now()
    created = 0
    for rule in InviteRule.objects.filter(enabled=True):
        batch = []
        for appointment_id, patient_id in _due_appointments(rule, now).iterator(chunk_size=SCAN_CHUNK):
            batch.append(
                Invite(rule=rule, appointment_id=appointment_id, patient_id=patient_id, next_attempt_at=now)
            )
            if len(batch) >= SCAN_CHUNK:
                created += len(Invite.objects.bulk_create(batch, ignore_conflicts=True))
                batch = []
        if batch:
            created += len(Invite.objects.bulk_create(batch, ignore_conflicts=True))
    return created


def invites_recover(*, now: datetime | None = None) -> int:
    """Rows a dead worker left in `sending` become `failed`, never sent twice;
    their credentials, which may never have gone out, are voided (SPEC I6)."""
    now = now or timezone.now()
    recovered = 0
    stale = Invite.objects.filter(status=Q_.SENDING, claimed_until__lt=now)
    for invite_id in stale.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            invite = stale.select_for_update(skip_locked=True).filter(pk=invite_id).first()
            if invite is not None:
                _finish(invite, Q_.FAILED, INTERRUPTED, now)
                recovered += 1
    return recovered


def eligibility_words(messages: list[str]) -> str:
    if "Missing patient email." in messages:
        return "no email"
    return "; ".join(m.rstrip(".").replace("patient ", "").lower() for m in messages)


def _skip_reason(invite: Invite, practice: PracticeSettings, now: datetime) -> str:
    return skip_reason(
        patient=invite.patient,
        appointment=invite.appointment,
        rule=invite.rule if invite.rule_id else _template(invite),
        practice=practice,
        now=now,
    )


def skip_reason(
    *,
    patient: Patient,
    appointment: Appointment | None,
    rule: InviteRule | None,
    practice: PracticeSettings,
    now: datetime,
) -> str:
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
        if rule.mode == InviteRule.Mode.NO_VISIT_IN_DAYS and now - account.last_login < timedelta(
            days=rule.revisit_days
        ):
            return f"visited the portal in the last {rule.revisit_days} days"
    return ""


def _values(invite: Invite, practice: PracticeSettings) -> InviteValues:
    """Issue credentials (SPEC I2) and the tag values for one family member.
    Outside any transaction: the password is hashed first (SPEC Q2)."""
    patient = invite.patient
    issued = access_issue_for_delivery(patient=patient, actor=ACTOR)
    if issued is not None:
        username, password = issued.credentials.username, issued.credentials.password
        token = retry_transient(lambda: _note_issued(invite, issued), within=RECORD_WITHIN)
        link = practice.patient_facing_url.rstrip("/") + f"/activate/{token}/"
    else:  # the patient has their own password: nothing secret goes out
        account = PortalAccount.objects.get(patient=patient)
        username, password = mask_username(account.username), MASKED_PASSWORD
        link = practice.patient_facing_url
    return InviteValues(
        first_name=patient.first_name,
        preferred_name=patient.preferred_name,
        office_name=practice.practice_name,
        office_phone=practice.practice_phone,
        appointment_start=invite.appointment.start if invite.appointment else None,
        username=username,
        password=password,
        portal_url=practice.patient_facing_url,
        activation_link=link,
    )


def _note_issued(invite: Invite, issued: Issued) -> str:
    """Keep what the credentials replaced (from the first try: a retry's
    credentials replace the previous try's) and make the activation link."""
    with transaction.atomic():
        if not invite.issued_hash or issued.prior_hash != invite.issued_hash:
            # The first try, or staff changed the password since our last try:
            # what these credentials replace is what a failure puts back.
            invite.prior_hash, invite.prior_one_time = issued.prior_hash, issued.prior_one_time
        if not invite.issued_hash:
            invite.grants_access = issued.new_access
        invite.issued_hash = issued.hashed
        invite.save(
            update_fields=["issued_hash", "prior_hash", "prior_one_time", "grants_access", "updated_at"]
        )
        return activation_issue(issued.account)


def _finish(invite: Invite, status: str, reason: str, now: datetime) -> None:
    """Record a final state. SPEC I6: sent, access counts as provided now (for
    a patient who had none); failed, credentials nobody received are voided."""
    if status == Q_.SENT:
        access_delivery_accepted(
            patient_id=invite.patient_id, actor=ACTOR, new_access=invite.grants_access, at=now
        )
    elif invite.issued_hash:
        access_delivery_failed(
            patient_id=invite.patient_id,
            actor=ACTOR,
            issued_hash=invite.issued_hash,
            prior_hash=invite.prior_hash,
            prior_one_time=invite.prior_one_time,
            reason=reason,
        )
    invite.status, invite.reason, invite.claimed_until = status, reason[:300], None
    invite.issued_hash, invite.prior_hash = "", ""
    if status == Q_.SENT:
        invite.sent_at = now
    invite.save(
        update_fields=[
            "status",
            "reason",
            "claimed_until",
            "sent_at",
            "issued_hash",
            "prior_hash",
            "updated_at",
        ]
    )
    audit_record(
        action=f"invite_{status}",
        actor=ACTOR,
        patient_id=invite.patient_id,
        outcome=AuditEvent.Outcome.SUCCESS if status == Q_.SENT else AuditEvent.Outcome.FAILURE,
        detail={"invite": invite.pk, "reason": reason} if reason else {"invite": invite.pk},
    )


def _claim(worker: str, now: datetime, summary: SendSummary) -> tuple[PracticeSettings, list[Invite]] | None:
    """Claim the next due invite and its family members at the same address,
    mark them `sending` (those that must not go out are skipped); returns
    (practice, [invite]) or None. No credentials yet: they need a hash."""
    due = Invite.objects.filter(status=Q_.QUEUED, next_attempt_at__lte=now)
    lead = (
        due.select_for_update(skip_locked=True, of=("self",))
        .select_related("patient")
        .order_by("next_attempt_at", "id")
        .first()
    )
    if lead is None:
        return None
    group = [lead]
    if lead.patient.email.strip():
        siblings = due.exclude(pk=lead.pk).filter(
            rule_id=lead.rule_id,
            bulk_run_id=lead.bulk_run_id,
            patient__email__iexact=lead.patient.email.strip(),
        )
        group += list(siblings.select_for_update(skip_locked=True, of=("self",)).order_by("id")[:20])
    practice = PracticeSettings.load()
    claimed = []
    for invite in (
        Invite.objects.select_related("patient", "appointment", "rule", "bulk_run__rule")
        .filter(pk__in=[i.pk for i in group])
        .order_by("id")
    ):
        reason = _skip_reason(invite, practice, now)
        if reason:
            _finish(invite, Q_.SKIPPED, reason, now)
            summary.skipped += 1
            continue
        invite.status, invite.claimed_by = Q_.SENDING, worker
        invite.claimed_until, invite.recipient = now + LEASE, invite.patient.email.strip()
        invite.attempts += 1
        invite.save(
            update_fields=["status", "claimed_by", "claimed_until", "recipient", "attempts", "updated_at"]
        )
        claimed.append(invite)
    return practice, claimed


def _issue_all(
    invites: list[Invite], practice: PracticeSettings, now: datetime, summary: SendSummary
) -> list[tuple[Invite, InviteValues]]:
    """Credentials for each claimed invite; refusals become skips, a bug fails
    only its own invite. A transient database error puts every invite not yet
    finished back in the queue, uncounted, for the worker to retry (SPEC Q4)."""
    outgoing = []
    try:
        for invite in invites:
            try:
                outgoing.append((invite, _values(invite, practice)))
            except Refused as exc:
                retry_transient(
                    partial(_finish, invite, Q_.SKIPPED, eligibility_words(exc.messages), now),
                    within=RECORD_WITHIN,
                )
                summary.skipped += 1
            except Exception as exc:
                if is_transient(exc):
                    raise
                logger.exception("Could not issue credentials for invite %s", invite.pk)
                retry_transient(
                    partial(
                        _finish, invite, Q_.FAILED, f"could not issue credentials: {type(exc).__name__}", now
                    ),
                    within=RECORD_WITHIN,
                )
                summary.failed += 1
    except Exception:
        retry_transient(
            lambda: _requeue([i for i in invites if i.status == Q_.SENDING]), within=RECORD_WITHIN
        )
        raise
    return outgoing


def _requeue(invites: list[Invite]) -> None:
    with transaction.atomic():
        for invite in invites:
            invite.status, invite.claimed_until = Q_.QUEUED, None
            invite.attempts = max(0, invite.attempts - 1)  # the database failed, not the mail
            invite.save(update_fields=["status", "claimed_until", "attempts", "updated_at"])


def _template(invite: Invite) -> InviteRule | None:
    return invite.rule or (invite.bulk_run.rule if invite.bulk_run else None)


def _message(practice: PracticeSettings, outgoing: list[tuple[Invite, InviteValues]]) -> EmailMessage:
    rule = _template(outgoing[0][0])  # not None: skip_reason refused rule-less invites
    assert rule is not None
    # SPEC V10: the rule's Spanish text for a patient whose language is
    # Spanish (the first of a family sharing the address), if it has one.
    subject, body = rule.template_for(patient_language(outgoing[0][0].patient))
    subject = render(subject, outgoing[0][1]).replace("\n", " ")
    body = "\n\n----------\n\n".join(render(body, values) for _, values in outgoing)
    return EmailMessage(
        subject=subject,
        body=body,
        to=[outgoing[0][0].recipient],
        reply_to=[practice.practice_email] if practice.practice_email else None,
    )


def invite_send_next(
    *, worker: str, connection: BaseEmailBackend, summary: SendSummary, now: datetime | None = None
) -> bool:
    """Claim, send and record one email (one recipient). False when nothing is due."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = _claim(worker, now, summary)
    if claimed is None:
        return False
    practice, invites = claimed
    outgoing = _issue_all(invites, practice, now, summary)
    if not outgoing:
        return True
    invites = [invite for invite, _ in outgoing]
    failure = smtp_send(_message(practice, outgoing), connection)
    answered = timezone.now()  # SPEC I6: access is provided when the server takes it
    if failure is not None:
        logger.warning(
            "Invite email to patient(s) %s not sent: %s",
            [i.patient_id for i in invites],
            failure.error.split(":")[0],
        )
        summary.errors.append(failure.error)
    # SPEC I6: the server's answer is recorded even through a database blip.
    outcomes = retry_transient(lambda: _record(invites, failure, answered), within=RECORD_WITHIN)
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
                assert result.retry_at is not None  # outcome() sets it for every retry
                invite.status, invite.claimed_until = Q_.QUEUED, None
                invite.next_attempt_at, invite.reason = result.retry_at, result.reason[:300]
                invite.save(
                    update_fields=["status", "claimed_until", "next_attempt_at", "reason", "updated_at"]
                )
            else:
                _finish(invite, result.status, result.reason, now)
            results.append(result)
    return results


def invites_send_due(
    *,
    worker: str,
    limit: int | None = None,
    now: datetime | None = None,
    progress: Callable[[SendSummary], object] | None = None,
) -> SendSummary:
    """Send due invites until none is left (or `limit` emails were tried)."""
    return send_due(invite_send_next, worker=worker, limit=limit, now=now, progress=progress)
