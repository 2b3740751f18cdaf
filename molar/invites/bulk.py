"""SPEC I5: invite or grant access to a filtered set of patients at once.

Both actions can be interrupted and run again without duplicates:
- "Send invites now" records one Invite per (run, patient) under a unique
  constraint, and a run is identified by its criteria, so running the same
  selection again resumes it instead of inviting anyone twice.
- "Provide access and print letters" grants in one transaction that commits
  only after the letters file is complete: interrupted, nothing happened."""

import datetime
import hashlib
import json
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from molar.access.printout import letters_pdf
from molar.access.services import AccessRefused, access_provide
from molar.audit.services import Actor, audit_record
from molar.patients.eligibility import eligibility_problems
from molar.patients.models import Appointment, Patient
from molar.practice.models import PracticeSettings

from .delivery import eligibility_words, skip_reason
from .models import BulkRun, Invite, InviteRule

MAX_LETTERS = 2000  # one transaction, one PDF
ALREADY = "already has online access"


@dataclass(frozen=True)
class Criteria:
    start: datetime.date
    end: datetime.date
    no_access_only: bool = False

    def as_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "no_access_only": self.no_access_only}


@dataclass
class PlanRow:
    patient: Patient
    reason: str  # "" = will be processed


@dataclass
class GrantSummary:
    granted: int = 0
    skipped: list[PlanRow] = field(default_factory=list)


def _with_access() -> Q:
    # Unusable Django hashes start with "!" (SPEC A1: access = a usable hash).
    return Q(portal_account__isnull=False) & ~Q(portal_account__password__startswith="!")  # noqa: S106


def bulk_candidates(criteria: Criteria) -> QuerySet[Patient]:
    """Patients with a (not broken) appointment in the date range, by the
    practice's local days; optionally only those without access yet."""
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(criteria.start, datetime.time(), zone)
    end = datetime.datetime.combine(criteria.end + datetime.timedelta(days=1), datetime.time(), zone)
    visits = Appointment.objects.filter(start__gte=start, start__lt=end).exclude(
        status=Appointment.Status.BROKEN)
    patients = Patient.objects.filter(pk__in=visits.values("patient_id"))
    if criteria.no_access_only:
        patients = patients.exclude(_with_access())
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
            reason = skip_reason(patient=patient, appointment=None, rule=rule, practice=practice,
                                 now=now)
            if not reason:
                problems = eligibility_problems(patient, country=practice.country)
                reason = eligibility_words(problems) if problems else ""
        rows.append(PlanRow(patient, reason))
    return rows


def _run_key(action: str, criteria: Criteria, rule: InviteRule | None) -> str:
    text = json.dumps({"action": action, "rule": rule.pk if rule else None, **criteria.as_dict()},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def bulk_invite(*, criteria: Criteria, rule: InviteRule, actor: Actor) -> BulkRun:
    """Queue one invite per selected patient for the worker (or `molar bulk
    invite`) to send. The same selection again resumes the same run."""
    key = _run_key(BulkRun.Action.INVITE, criteria, rule)
    try:
        with transaction.atomic():
            run, created = BulkRun.objects.get_or_create(key=key, defaults={
                "action": BulkRun.Action.INVITE, "rule": rule, "criteria": criteria.as_dict(),
                "created_by": actor.label})
    except IntegrityError:  # two staff started the same run at once
        run, created = BulkRun.objects.get(key=key), False
    now = timezone.now()
    ids = list(bulk_candidates(criteria).values_list("pk", flat=True))
    for start in range(0, len(ids), 1000):
        Invite.objects.bulk_create(
            [Invite(bulk_run=run, patient_id=pk, next_attempt_at=now) for pk in ids[start:start + 1000]],
            ignore_conflicts=True)
    BulkRun.objects.filter(pk=run.pk).update(total=run.invites.count())
    audit_record(action="bulk_invite_started" if created else "bulk_invite_resumed", actor=actor,
                 detail={"run": run.pk, "patients": len(ids), **criteria.as_dict()})
    run.refresh_from_db()
    return run


def bulk_progress(run: BulkRun) -> dict[str, int]:
    counts = {status: 0 for status in Invite.Status.values}
    for row in run.invites.values("status").order_by().annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def bulk_grant(*, criteria: Criteria, actor: Actor, target, progress=None) -> GrantSummary:
    """Provide access to every selected patient who can have it and write one
    letter each to `target`. All or nothing: the grants commit only after the
    letters are written, so an interrupted run can simply be run again."""
    practice = PracticeSettings.load()
    patients = list(bulk_candidates(criteria)[:MAX_LETTERS + 1])
    if len(patients) > MAX_LETTERS:
        raise AccessRefused([f"Choose at most {MAX_LETTERS} patients at a time; narrow the dates."],
                            "input")
    summary, letters = GrantSummary(), []
    with transaction.atomic():
        for number, patient in enumerate(patients, start=1):
            reason = _grant_reason(patient, practice)
            if not reason:
                try:
                    creds = access_provide(patient=patient, actor=actor, source="bulk")
                except AccessRefused as exc:
                    reason = eligibility_words(exc.messages) if exc.kind == "eligibility" else ALREADY
                else:
                    letters.append((creds.username, creds.password, creds.patient_facing_url))
                    summary.granted += 1
            if reason:
                summary.skipped.append(PlanRow(patient, reason))
            if progress:
                progress(number, len(patients))
        letters_pdf(target, practice=practice, letters=letters)
        audit_record(action="bulk_grant", actor=actor,
                     detail={"granted": summary.granted, "skipped": len(summary.skipped),
                             **criteria.as_dict()})
    return summary

