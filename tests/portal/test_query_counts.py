"""Issue 6 item 7: no portal page makes a number of queries that grows with
the patient's history."""

import datetime
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from molar.messaging.models import Message, Thread
from molar.patients.models import Appointment, Provider
from molar.records.models import (
    Allergy,
    LedgerEntry,
    Medication,
    PlannedProcedure,
    Problem,
    Statement,
    TreatmentPlan,
)

PAGES = [
    "/portal/appointments/",
    "/portal/account/",
    "/portal/treatment-plan/",
    "/portal/messages/",
    "/portal/health-summary/",
    "/portal/documents/",
    "/portal/history/",
    "/portal/api/appointments",
]


def add_history(patient, n: int) -> None:
    provider, _ = Provider.objects.get_or_create(abbreviation="QC", defaults={"name": "Dr. Q"})
    now, today = timezone.now(), timezone.localdate()
    for i in range(n):
        Appointment.objects.create(
            patient=patient, provider=provider, start=now + datetime.timedelta(days=i - n // 2)
        )
        LedgerEntry.objects.create(
            patient=patient, date=today, description=f"e{i}", amount=Decimal("10.00"), kind="charge"
        )
        Statement.objects.create(patient=patient, date=today, period_start=today, period_end=today)
        plan = TreatmentPlan.objects.create(patient=patient, name=f"p{i}", status="active")
        PlannedProcedure.objects.create(plan=plan, code="D1110", description="x", fee=Decimal("1"))
        Problem.objects.create(patient=patient, name=f"pr{i}")
        Medication.objects.create(patient=patient, name=f"m{i}")
        Allergy.objects.create(patient=patient, substance=f"a{i}")
        thread = Thread.objects.create(patient=patient, subject=f"t{i}")
        Message.objects.create(
            thread=thread, body="b", author_kind="patient", author_label="p", author_patient=patient
        )


def counts(client) -> dict[str, int]:
    result = {}
    for page in PAGES:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page).status_code == 200, page
        result[page] = len(queries)
    return result


def test_every_tab_makes_the_same_number_of_queries_for_a_long_history(
    patient_client, complete_patient, settings
):
    settings.PORTAL_PAGE_SECONDS = 0  # each page rendered: what a change of the record costs
    add_history(complete_patient, 2)
    counts(patient_client)  # warm (session renewal, first-time caches)
    small = counts(patient_client)
    add_history(complete_patient, 20)
    assert counts(patient_client) == small


def test_appointments_tab_shows_the_50_most_recent_past_visits(patient_client, complete_patient):
    now = timezone.now()
    Appointment.objects.bulk_create(
        Appointment(patient=complete_patient, start=now - datetime.timedelta(days=n + 1)) for n in range(60)
    )
    page = patient_client.get("/portal/appointments/").content.decode()
    past = page.split('id="past-h"')[1]
    assert past.count('<tr><td data-label="Date"><time') == 50
    assert "The 50 most recent visits." in past


def test_portal_pages_do_not_read_the_practice_settings_on_every_request(patient_client):
    patient_client.get("/portal/appointments/")  # this process reads them once
    for page in PAGES:
        with CaptureQueriesContext(connection) as queries:
            assert patient_client.get(page).status_code == 200, page
        assert not [q for q in queries if "practice_practicesettings" in q["sql"]], page


def test_a_settings_change_reaches_the_pages_of_this_process_at_once(patient_client, practice):
    assert patient_client.get("/portal/account/").status_code == 200
    practice.show_account = False
    practice.save()
    assert patient_client.get("/portal/account/").status_code == 404


def test_a_change_made_by_another_process_is_read_after_the_cache_time(patient_client, practice, settings):
    from molar.practice.models import PracticeSettings

    assert patient_client.get("/portal/account/").status_code == 200
    PracticeSettings.objects.filter(pk=practice.pk).update(show_account=False)  # no signal here
    assert patient_client.get("/portal/account/").status_code == 200  # still the kept copy
    settings.PRACTICE_SETTINGS_SECONDS = 0
    assert patient_client.get("/portal/account/").status_code == 404
