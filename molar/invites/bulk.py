"""SPEC I5: invite or grant access to a filtered set of patients at once.

Both actions can be interrupted and run again without duplicates, and both
commit per patient, so other staff and patients never wait on them (SPEC Q3):
- "Send invites now" records one Invite per (run, patient) under a unique
  constraint, and a run is identified by its criteria, so running the same
  selection again resumes it instead of inviting anyone twice.
- "Provide access and print letters" grants each patient in its own short
  transaction and records a PendingLetter; the passwords stay in memory
  until the letters are written. A run that stops before that leaves the
  letters pending: the next run over those patients gives each a new
  one-time password (nobody ever saw the lost one) and prints it."""

import datetime
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from molar.access.models import PortalAccount
from molar.access.printout import letters_pdf
from molar.access.services import Credentials, access_issue_one_time, access_provide
from molar.audit.services import Actor, audit_record
from molar.dates import END_BEFORE_START, day_after, day_start, window_refusal
from molar.i18n import language_for
from molar.patients.eligibility import eligibility_problems
from molar.patients.models import Appointment, Patient
from molar.practice.models import PracticeSettings
from molar.refusal import Kind, Refused

from .delivery import eligibility_words, skip_reason
from .models import BulkRun, Invite, InviteRule, PendingLetter

MAX_LETTERS = 2000  # one PDF
ALREADY = "already has online access"
PAGE_MOST_DAYS = 366  # the page's dry run lists every patient in one request
PAGE_TOO_LONG = "Choose at most one year of appointments."


def bulk_window_refusal(
    start: datetime.date | None,
    end: datetime.date | None,
    *,
    reversed_text: str = END_BEFORE_START,
    most_days: int | None = PAGE_MOST_DAYS,
) -> str | None:
    """The appointment days a bulk run selects, as the page and `molar bulk`
    take them: in order; at most `most_days` apart (the command sets none)."""
    return window_refusal(
        start, end, reversed_text=reversed_text, most_days=most_days, too_long_text=PAGE_TOO_LONG
    )


@dataclass(frozen=True)
class Criteria:
    start: datetime.date
    end: datetime.date
    no_access_only: bool = False

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "no_access_only": self.no_access_only,
        }


@dataclass
class PlanRow:
    patient: Patient
    reason: str  # "" = will be processed


@dataclass
class GrantSummary:
    granted: int = 0
    reissued: int = 0  # letters a stopped run had not written: new one-time passwords
    skipped: list[PlanRow] = field(default_factory=list)
    patient_ids: list[int] = field(default_factory=list)  # the selection: whose letters are owed

    @property
    def letters(self) -> int:
        return self.granted + self.reissued


def _with_access() -> Q:
    # Unusable Django hashes start with "!" (SPEC A1: access = a usable hash).
    return Q(portal_account__isnull=False) & ~Q(portal_account__password__startswith="!")  # noqa: S106


def bulk_candidates(criteria: Criteria) -> QuerySet[Patient]:
    """Patients with a (not broken) appointment in the date range, by the
    practice's local days; optionally only those without access yet."""
    start, end = day_start(criteria.start), day_after(criteria.end)  # SPEC X4: clamped
    visits = Appointment.objects.filter(start__gte=start, start__lt=end).exclude(
        status=Appointment.Status.BROKEN
    )
    patients = Patient.objects.filter(pk__in=visits.values("patient_id"))
    if criteria.no_access_only:  # ... or whose letter a stopped grant still owes them
        owed = PendingLetter.objects.filter(patient=OuterRef("pk"), lettered_at__isnull=True)
        patients = patients.exclude(_with_access() & ~Exists(owed))
    return patients.select_related("portal_account").order_by("last_name", "first_name", "id")


def _grant_reason(patient: Patient, practice: PracticeSettings) -> str:
    account = getattr(patient, "portal_account", None)
    if account is not None and account.has_access:
        return ALREADY
    if not practice.portal_enabled:
        return "Patient Portal is not enabled"
    if not practice.patient_facing_url:
        return "no Patient Facing URL"
    problems = eligibility_problems(patient, country=practice.country)
    return eligibility_words(problems) if problems else ""


def bulk_plan(*, action: str, criteria: Criteria, rule: InviteRule | None) -> list[PlanRow]:
    """The dry run: every selected patient and why they would be skipped."""
    practice, now = PracticeSettings.load(), timezone.now()
    rows = []
    for patient in bulk_candidates(criteria).iterator(chunk_size=500):
        if action == BulkRun.Action.GRANT:
            reason = _grant_reason(patient, practice)
        else:
            reason = skip_reason(patient=patient, appointment=None, rule=rule, practice=practice, now=now)
            if not reason:
                problems = eligibility_problems(patient, country=practice.country)
                reason = eligibility_words(problems) if problems else ""
        rows.append(PlanRow(patient, reason))
    return rows


def _run_key(action: str, criteria: Criteria, rule: InviteRule | None) -> str:
    text = json.dumps(
        {"action": action, "rule": rule.pk if rule else None, **criteria.as_dict()}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()


def bulk_invite(*, criteria: Criteria, rule: InviteRule, actor: Actor) -> BulkRun:
    """Queue one invite per selected patient for the worker (or `molar bulk
    invite`) to send. The same selection again resumes the same run."""
    key = _run_key(BulkRun.Action.INVITE, criteria, rule)
    try:
        with transaction.atomic():
            run, created = BulkRun.objects.get_or_create(
                key=key,
                defaults={
                    "action": BulkRun.Action.INVITE,
                    "rule": rule,
                    "criteria": criteria.as_dict(),
                    "created_by": actor.label,
                },
            )
    except IntegrityError:  # two staff started the same run at once
        run, created = BulkRun.objects.get(key=key), False
    now = timezone.now()
    ids = list(bulk_candidates(criteria).values_list("pk", flat=True))
    for start in range(0, len(ids), 1000):
        Invite.objects.bulk_create(
            [Invite(bulk_run=run, patient_id=pk, next_attempt_at=now) for pk in ids[start : start + 1000]],
            ignore_conflicts=True,
        )
    BulkRun.objects.filter(pk=run.pk).update(total=run.invites.count())
    audit_record(
        action="bulk_invite_started" if created else "bulk_invite_resumed",
        actor=actor,
        detail={"run": run.pk, "patients": len(ids), **criteria.as_dict()},
    )
    run.refresh_from_db()
    return run


def bulk_progress(run: BulkRun) -> dict[str, int]:
    counts = {status: 0 for status in Invite.Status.values}
    for row in run.invites.values("status").order_by().annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def bulk_grant(
    *,
    criteria: Criteria,
    actor: Actor,
    target: str | IO[bytes],
    progress: Callable[[int, int], object] | None = None,
    letters_taken: bool = True,
) -> GrantSummary:
    """Provide access to every selected patient who can have it, one short
    transaction each, then write one letter each to `target` (a path or a
    binary file). Run again after an interruption, it finishes the job.
    `letters_taken=False` (the web page, whose letters wait to be opened):
    the letters stay owed until `bulk_letters_taken`."""
    practice = PracticeSettings.load()
    patients = list(bulk_candidates(criteria)[: MAX_LETTERS + 1])
    if len(patients) > MAX_LETTERS:
        raise Refused(f"Choose at most {MAX_LETTERS} patients at a time; narrow the dates.")
    run = _grant_run(criteria, actor)
    summary, letters = GrantSummary(), []
    for number, patient in enumerate(patients, start=1):
        credentials, reason = _grant_one(run, patient, practice, actor, summary)
        if credentials is not None:
            letters.append(
                (
                    credentials.username,
                    credentials.password,
                    credentials.patient_facing_url,
                    language_for(patient),
                )
            )
        if reason:
            summary.skipped.append(PlanRow(patient, reason))
        if progress:
            progress(number, len(patients))
    letters_pdf(target, practice=practice, letters=letters)
    summary.patient_ids = [patient.pk for patient in patients]
    if letters_taken:
        _lettered(summary.patient_ids)
    audit_record(
        action="bulk_grant",
        actor=actor,
        detail={
            "run": run.pk,
            "granted": summary.granted,
            "reissued": summary.reissued,
            "skipped": len(summary.skipped),
            **criteria.as_dict(),
        },
    )
    return summary


def _lettered(patient_ids: list[int]) -> int:
    owed = PendingLetter.objects.filter(patient_id__in=patient_ids, lettered_at__isnull=True)
    return owed.update(lettered_at=timezone.now())


def bulk_letters_taken(*, patient_ids: list[int], letters: int, actor: Actor) -> None:
    """SPEC I7: the letters of a web bulk grant were opened: nothing is owed
    to these patients any more (until then a new run re-issues them)."""
    with transaction.atomic():
        _lettered(patient_ids)
        audit_record(action="bulk_letters_taken", actor=actor, detail={"letters": letters})


def _grant_run(criteria: Criteria, actor: Actor) -> BulkRun:
    key = _run_key(BulkRun.Action.GRANT, criteria, None)
    try:
        with transaction.atomic():
            run, _ = BulkRun.objects.get_or_create(
                key=key,
                defaults={
                    "action": BulkRun.Action.GRANT,
                    "criteria": criteria.as_dict(),
                    "created_by": actor.label,
                },
            )
    except IntegrityError:  # two staff started the same run at once
        run = BulkRun.objects.get(key=key)
    return run


def _grant_one(
    run: BulkRun, patient: Patient, practice: PracticeSettings, actor: Actor, summary: GrantSummary
) -> tuple[Credentials | None, str]:
    """(credentials or None, skip reason or "") for one patient; every
    change commits before this returns."""
    if PendingLetter.objects.filter(patient=patient, lettered_at__isnull=True).exists():
        credentials = _reissue(patient, actor)
        if credentials is not None:
            summary.reissued += 1
            return credentials, ""
    reason = _grant_reason(patient, practice)
    if reason:
        return None, reason
    PendingLetter.objects.get_or_create(run=run, patient=patient)  # before the grant commits
    try:
        credentials = access_provide(patient=patient, actor=actor, source="bulk")
    except Refused as exc:
        PendingLetter.objects.filter(run=run, patient=patient, lettered_at__isnull=True).delete()
        return None, ALREADY if exc.kind == Kind.CONFLICT else eligibility_words(exc.messages)
    summary.granted += 1
    return credentials, ""


def _reissue(patient: Patient, actor: Actor) -> Credentials | None:
    """A letter owed from a stopped run: a new one-time password, unless the
    patient has since signed in or chosen their own (then nothing is owed)."""
    account = PortalAccount.objects.filter(patient=patient).first()
    if account is None or not account.has_access:
        return None  # the grant itself never committed: grant normally
    if account.last_login is None and account.require_password_change:
        try:
            return access_issue_one_time(patient=patient, actor=actor, source="bulk")
        except Refused:
            return None
    PendingLetter.objects.filter(patient=patient, lettered_at__isnull=True).update(lettered_at=timezone.now())
    return None
