"""SPEC E2: the dashboard page, CSV export and API."""

import csv
import io

import pytest

from molar.access.models import AccessEvent
from molar.patients.models import Appointment

from .test_measure import D, at


@pytest.fixture
def seen(make_patient, practice):
    """Two patients seen on 2025-01-06: Maria got access in time, Leo did not."""
    maria, leo = make_patient(first_name="Maria"), make_patient(first_name="Leo")
    for patient in (maria, leo):
        Appointment.objects.create(patient=patient, start=at(D(2025, 1, 6)), status="complete")
    event = AccessEvent.objects.create(patient=maria, kind="OnlineAccessProvided", source="window")
    AccessEvent.objects.filter(pk=event.pk).update(created_at=at(D(2025, 1, 8)))
    return maria, leo


PERIOD = {"start": "2025-01-01", "end": "2025-01-31"}


def test_dashboard_shows_the_measure_and_reasons(desk_client, seen):
    maria, leo = seen
    page = desk_client.get("/staff/dashboard/", PERIOD).content.decode()
    assert '<dd id="numerator">1</dd>' in page and '<dd id="denominator">2</dd>' in page
    assert '<dd id="percentage">50.0%</dd>' in page and '<dd id="met">No</dd>' in page
    assert "Online access provided 2025-01-08" in page
    assert "Visit 2025-01-06, no online access provided" in page
    # The action sits next to Leo only, and returns to this dashboard.
    assert page.count("Provide Online Access<span") == 1
    assert f"/staff/patients/{leo.pk}/portal-access/?next=/staff/dashboard/%3F" in page


def test_access_page_opened_from_dashboard_links_back(desk_client, seen):
    leo = seen[1]
    back = "/staff/dashboard/?start=2025-01-01&end=2025-01-31"
    page = desk_client.get(f"/staff/patients/{leo.pk}/portal-access/", {"next": back})
    assert f'href="{back.replace("&", "&amp;")}">Back</a>' in page.content.decode()


def test_csv_export(desk_client, seen):
    response = desk_client.get("/staff/dashboard/electronic-copy-access.csv", PERIOD)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["patient_id", "name", "first_visit", "deadline", "access_provided", "met",
                       "reason"]
    assert sorted(row[5] for row in rows[1:]) == ["no", "yes"]


def test_bad_period_is_a_message(desk_client, seen):
    page = desk_client.get("/staff/dashboard/", {"start": "2025-02-01", "end": "2025-01-01"})
    assert "The end date is before the start date." in page.content.decode()


def test_dashboard_needs_the_permission(clerk_client, db):
    assert clerk_client.get("/staff/dashboard/").status_code == 403


def test_api_measure(desk_api, seen):
    body = desk_api.get("/measures/electronic-copy-access?start=2025-01-01&end=2025-01-31").json()
    assert (body["numerator"], body["denominator"], body["percentage"], body["met"]) == (1, 2, 50.0, False)
    assert body["threshold"] == 50 and len(body["patients"]) == 2
    lean = desk_api.get("/measures/electronic-copy-access?start=2025-01-01&end=2025-01-31&patients=false")
    assert lean.json()["patients"] is None
    bad = desk_api.get("/measures/electronic-copy-access?start=2025-02-01&end=2025-01-01")
    assert bad.status_code == 422 and bad.json() == {"errors": ["end is before start."]}
    assert desk_api.get("/measures/electronic-copy-access?start=x&end=y").status_code == 422
    assert desk_api.get("/measures/electronic-copy-access?start=2025-01-01&end=2025-01-31&provider=999"
                        ).status_code == 422


