"""Set-up for the portal tab measures (issue 6): one patient with a large
history (200 appointments, 500 ledger entries, 100 messages, and some of every
other kind) who can sign in. Run `python -m bench.portal_seed` after
bench.seed in the same environment; prints one JSON line with the patient's
username and password."""

import datetime
import json
from decimal import Decimal

import django

APPOINTMENTS, LEDGER_ENTRIES, MESSAGES = 200, 500, 100
PASSWORD = "Bench7Portal"  # noqa: S105 (a throwaway account in a throwaway database)


def seed() -> dict:
    from django.utils import timezone

    from molar.access.services import access_provide
    from molar.audit.services import Actor
    from molar.messaging.models import Message, Thread
    from molar.patients.models import Appointment, Patient, Provider
    from molar.portal.services import portal_password_change
    from molar.records.models import (
        Allergy,
        LedgerEntry,
        Medication,
        PlannedProcedure,
        Problem,
        Statement,
        TreatmentPlan,
    )

    actor = Actor.system("bench")
    patient = Patient.objects.filter(portal_account__isnull=True).order_by("pk").first()
    account_creds = access_provide(patient=patient, actor=actor)
    account = patient.portal_account
    portal_password_change(account=account, new=PASSWORD, confirm=PASSWORD)
    provider, _ = Provider.objects.get_or_create(abbreviation="BENCH", defaults={"name": "Dr. Bench"})
    now = timezone.now()
    Appointment.objects.bulk_create(
        Appointment(
            patient=patient,
            provider=provider,
            start=now + datetime.timedelta(days=n - 150),
            status="complete" if n < 150 else "scheduled",
        )
        for n in range(APPOINTMENTS)
    )
    today = timezone.localdate()
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            patient=patient,
            date=today - datetime.timedelta(days=n),
            description=f"Visit {n}",
            amount=Decimal("45.00") if n % 3 else Decimal("-30.00"),
            kind="charge" if n % 3 else "payment",
        )
        for n in range(LEDGER_ENTRIES)
    )
    Statement.objects.bulk_create(
        Statement(
            patient=patient,
            date=today - datetime.timedelta(days=30 * n),
            period_start=today - datetime.timedelta(days=30 * n + 30),
            period_end=today - datetime.timedelta(days=30 * n),
        )
        for n in range(24)
    )
    for n in range(5):
        plan = TreatmentPlan.objects.create(patient=patient, name=f"Plan {n}", status="active")
        PlannedProcedure.objects.bulk_create(
            PlannedProcedure(
                plan=plan,
                code="D2391",
                description="Resin composite",
                tooth=str(k + 1),
                fee=Decimal("180.00"),
                order=k,
            )
            for k in range(8)
        )
    Problem.objects.bulk_create(Problem(patient=patient, name=f"Problem {n}") for n in range(20))
    Medication.objects.bulk_create(Medication(patient=patient, name=f"Medication {n}") for n in range(20))
    Allergy.objects.bulk_create(Allergy(patient=patient, substance=f"Substance {n}") for n in range(10))
    for t in range(10):
        thread = Thread.objects.create(patient=patient, subject=f"Question {t}")
        Message.objects.bulk_create(
            Message(
                thread=thread,
                body=f"Message {t}.{n}",
                author_kind="patient",
                author_label=patient.first_name,
                author_patient=patient,
            )
            for n in range(MESSAGES // 10)
        )
    return {"username": account_creds.username, "password": PASSWORD, "patient_id": patient.pk}


def main() -> None:
    django.setup()
    print(json.dumps(seed()))


if __name__ == "__main__":
    main()
