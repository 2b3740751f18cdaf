"""Reads shared by the portal tabs, the staff page and the PDFs. Each makes a
fixed number of queries however long the patient's history (issue 6, item 7):
sums are aggregates, plans come with their procedures prefetched."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, Q, Sum

from molar.patients.models import Patient

from .models import (
    Allergy,
    Document,
    LedgerEntry,
    Medication,
    PlannedProcedure,
    Problem,
    Statement,
    TreatmentPlan,
)

ZERO = Decimal("0.00")
LIST_LIMIT = 200


def balance_of(patient: Patient) -> Decimal:
    total = LedgerEntry.objects.filter(patient=patient).aggregate(total=Sum("amount"))["total"]
    return total if total is not None else ZERO


def recent_entries(patient: Patient, limit: int = 25) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(patient=patient).order_by("-date", "-id")[:limit])


def statements_of(patient: Patient, limit: int = LIST_LIMIT) -> list[Statement]:
    return list(Statement.objects.filter(patient=patient).order_by("-date", "-id")[:limit])


@dataclass(frozen=True)
class StatementLines:
    statement: Statement
    previous_balance: Decimal
    entries: list[LedgerEntry]
    charges: Decimal
    credits: Decimal
    ending_balance: Decimal


def statement_lines(statement: Statement) -> StatementLines:
    """The entries dated in the statement's period, oldest first, with the
    balance carried in from before it."""
    rows = LedgerEntry.objects.filter(patient_id=statement.patient_id)
    sums = rows.aggregate(
        before=Sum("amount", filter=Q(date__lt=statement.period_start)),
        charges=Sum(
            "amount", filter=Q(date__range=(statement.period_start, statement.period_end), amount__gt=0)
        ),
        credits=Sum(
            "amount", filter=Q(date__range=(statement.period_start, statement.period_end), amount__lt=0)
        ),
    )
    entries = list(
        rows.filter(date__range=(statement.period_start, statement.period_end)).order_by("date", "id")
    )
    before, charges, credits = (sums[k] or ZERO for k in ("before", "charges", "credits"))
    return StatementLines(statement, before, entries, charges, credits, before + charges + credits)


@dataclass(frozen=True)
class PlanView:
    plan: TreatmentPlan
    procedures: list[PlannedProcedure]
    total: Decimal


def treatment_plans_of(patient: Patient) -> list[PlanView]:
    """Active plans first, then accepted, then inactive; newest first in each."""
    order = {
        TreatmentPlan.Status.ACTIVE: 0,
        TreatmentPlan.Status.ACCEPTED: 1,
        TreatmentPlan.Status.INACTIVE: 2,
    }
    plans = (
        TreatmentPlan.objects.filter(patient=patient)
        .prefetch_related(Prefetch("procedures", PlannedProcedure.objects.order_by("order", "id")))
        .order_by("-created", "-id")[:LIST_LIMIT]
    )
    views = [
        PlanView(p, list(p.procedures.all()), sum((x.fee for x in p.procedures.all()), ZERO)) for p in plans
    ]
    return sorted(views, key=lambda v: order.get(v.plan.status, 3))


@dataclass(frozen=True)
class HealthSummary:
    patient: Patient
    problems: list[Problem]
    medications: list[Medication]
    allergies: list[Allergy]


def health_summary_of(patient: Patient) -> HealthSummary:
    return HealthSummary(
        patient,
        list(Problem.objects.filter(patient=patient).order_by("status", "name", "id")),
        list(Medication.objects.filter(patient=patient).order_by("-active", "name", "id")),
        list(Allergy.objects.filter(patient=patient).order_by("-active", "substance", "id")),
    )


def portal_documents(patient: Patient, limit: int = LIST_LIMIT) -> list[Document]:
    """What the Documents tab lists: only those staff marked visible (SPEC L7)."""
    return list(
        Document.objects.filter(patient=patient, show_in_portal=True).order_by("-uploaded_at", "-id")[:limit]
    )


def staff_documents(patient: Patient) -> list[Document]:
    return list(
        Document.objects.filter(patient=patient)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-id")[:LIST_LIMIT]
    )
