"""Demo practice data: a practice with the portal on, two providers, and
families with complete and incomplete records. Loading twice changes nothing."""

import datetime

from django.db import transaction
from django.utils import timezone

from molar.audit.services import Actor
from molar.patients.models import GuardianLink, Patient, Provider
from molar.patients.services import appointment_save, patient_create
from molar.practice.models import DEFAULT_DISPLAY_FIELDS
from molar.practice.services import practice_settings_update

STREET = {"address1": "12 Harbor Lane", "city": "Portland", "state": "ME", "zip": "04101"}

PATIENTS = [
    # complete records: eligible for portal access
    dict(
        first_name="Maria",
        last_name="Lopez",
        birth_date="1984-03-12",
        wireless_phone="207-555-0101",
        email="maria.lopez@example.com",
        external_id="demo-1",
        **STREET,
    ),
    dict(
        first_name="Daniel",
        last_name="Lopez",
        birth_date="1982-07-30",
        home_phone="207-555-0102",
        email="daniel.lopez@example.com",
        external_id="demo-2",
        **STREET,
    ),
    dict(
        first_name="Sofía",
        last_name="Lopez",
        birth_date="2014-05-02",
        home_phone="207-555-0102",
        email="maria.lopez@example.com",
        external_id="demo-3",
        **STREET,
    ),
    dict(
        first_name="Anne-Marie",
        last_name="O'Neil",
        birth_date="1955-11-23",
        home_phone="207-555-0144",
        email="amoneil@example.com",
        address1="4 Elm St",
        city="Bangor",
        state="ME",
        zip="04401",
        external_id="demo-4",
    ),
    dict(
        first_name="James",
        last_name="Chen",
        birth_date="1991-01-09",
        work_phone="207-555-0190",
        email="jchen@example.com",
        address1="88 Fore St",
        city="Portland",
        state="ME",
        zip="04101",
        external_id="demo-5",
    ),
    # incomplete records: the access page lists what is missing
    dict(
        first_name="Peter",
        last_name="Novak",
        birth_date="1970-09-14",
        email="",
        address1="",
        city="Portland",
        state="Maine",
        external_id="demo-6",
    ),
    dict(
        first_name="Grace",
        last_name="Kim",
        email="grace.kim@example.com",
        address1="3 Pine Rd",
        city="Falmouth",
        state="ME",
        external_id="demo-7",
    ),
]


def _date(value: str | datetime.date) -> datetime.date:
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


@transaction.atomic
def demo_load(*, port: int) -> None:
    actor = Actor.system("demo")
    practice_settings_update(
        actor=actor,
        practice_name="Harbor Family Dental",
        practice_phone="207-555-0100",
        practice_email="frontdesk@harbordental.example",
        address1="1 Commercial St",
        city="Portland",
        state="ME",
        zip="04101",
        country="US",
        portal_enabled=True,
        patient_facing_url=f"http://127.0.0.1:{port}/portal/",
        display_fields=[*DEFAULT_DISPLAY_FIELDS, "patient_portal"],
        # SPEC K2: off so that the demo starts with one command; staff pages
        # say so in a banner, and `check --deploy` warns.
        require_staff_two_factor=False,
        require_admin_two_factor=False,
    )
    if Patient.objects.filter(external_id="demo-1").exists():
        return
    provider, _ = Provider.objects.get_or_create(abbreviation="DOC1", defaults={"name": "Dr. Ada Reyes"})
    Provider.objects.get_or_create(abbreviation="HYG1", defaults={"name": "Sam Patel, RDH"})
    made = {}
    for data in PATIENTS:
        fields = {k: (_date(v) if k == "birth_date" else v) for k, v in data.items()}
        made[data["external_id"]] = patient_create(actor=actor, primary_provider=provider, **fields)
    maria, daniel, sofia = made["demo-1"], made["demo-2"], made["demo-3"]
    for member in (maria, daniel, sofia):
        Patient.objects.filter(pk=member.pk).update(guarantor=maria)
    GuardianLink.objects.create(patient=sofia, guardian=maria, relationship="Mother", is_guardian=True)
    GuardianLink.objects.create(patient=sofia, guardian=daniel, relationship="Father", is_guardian=True)
    _appointments(made, provider)
    from molar.invites.rendering import SPANISH_BODY, SPANISH_SUBJECT
    from molar.invites.services import invite_rule_create

    for timing in ("before", "after"):
        invite_rule_create(
            actor=actor,
            timing=timing,
            enabled=True,
            subject_es=SPANISH_SUBJECT[timing],
            body_es=SPANISH_BODY[timing],
        )
    _records(maria, sofia, actor)


def _records(maria: Patient, sofia: Patient, actor: Actor) -> None:
    """Something to see on every portal tab."""
    from decimal import Decimal

    from molar.records import services as records

    today = timezone.localdate()
    records.ledger_entry_add(
        patient=maria,
        date=today - datetime.timedelta(days=10),
        description="Periodic oral evaluation",
        kind="charge",
        amount=Decimal("65.00"),
        actor=actor,
    )
    records.ledger_entry_add(
        patient=maria,
        date=today - datetime.timedelta(days=10),
        description="Payment, thank you",
        kind="payment",
        amount=Decimal("40.00"),
        actor=actor,
    )
    records.statement_create(
        patient=maria, period_start=today - datetime.timedelta(days=30), period_end=today, actor=actor
    )
    records.treatment_plan_save(
        patient=maria,
        name="Restorative",
        status="active",
        actor=actor,
        procedures=[
            {
                "code": "D2391",
                "description": "Resin composite, one surface",
                "tooth": "30",
                "fee": Decimal("180.00"),
            }
        ],
    )
    records.problem_save(patient=maria, actor=actor, name="Gingivitis", status="active")
    records.medication_save(
        patient=maria,
        actor=actor,
        name="Chlorhexidine rinse 0.12%",
        instructions="Rinse twice daily for 2 weeks",
        active=True,
    )
    records.allergy_save(
        patient=maria, actor=actor, substance="Penicillin", reaction="Hives", severity="moderate", active=True
    )
    records.problem_save(patient=sofia, actor=actor, name="Early childhood caries", status="active")


def _appointments(made: dict, provider: Provider) -> None:
    """Visits around today: past ones complete, upcoming ones scheduled."""
    today = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    plan = [
        ("demo-1", -10, "complete"),
        ("demo-1", 5, "scheduled"),
        ("demo-2", 3, "scheduled"),
        ("demo-3", 6, "scheduled"),
        ("demo-4", -2, "complete"),
        ("demo-5", -3, "complete"),
        ("demo-5", 1, "scheduled"),
        ("demo-6", -1, "broken"),
    ]
    for number, (key, days, status) in enumerate(plan):
        start = today + datetime.timedelta(days=days, hours=number % 3)
        appointment_save(
            patient=made[key],
            actor=Actor.system("demo"),
            provider=provider,
            start=start,
            duration_minutes=60,
            status=status,
        )
