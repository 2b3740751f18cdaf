"""SPEC E2: the dashboard page, CSV export and API."""

import csv
import io
from urllib.parse import urlencode

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
    assert rows[0] == ["patient_id", "name", "first_visit", "deadline", "access_provided", "met", "reason"]
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
    assert (
        desk_api.get(
            "/measures/electronic-copy-access?start=2025-01-01&end=2025-01-31&provider=999"
        ).status_code
        == 422
    )


def test_page_csv_and_api_take_the_same_reporting_period(desk_client, desk_api, seen, monkeypatch):
    """One rule (ehr.measures.period_refusal) for every door: the same longest
    period, the same refusal text; shortening it in one place shortens it everywhere."""
    api = "/measures/electronic-copy-access"
    longest = {"start": "2022-01-01", "end": "2025-01-03"}  # 3 * 366 days
    too_long = {"start": "2022-01-01", "end": "2025-01-04"}
    assert desk_client.get("/staff/dashboard/", longest).context["result"] is not None
    assert desk_api.get(f"{api}?{urlencode(longest)}").status_code == 200
    refusal = "Choose a reporting period of at most three years."
    assert refusal in desk_client.get("/staff/dashboard/", too_long).content.decode()
    assert desk_client.get("/staff/dashboard/electronic-copy-access.csv", too_long).status_code == 400
    assert desk_api.get(f"{api}?{urlencode(too_long)}").json() == {"errors": [refusal]}
    monkeypatch.setattr("molar.ehr.measures.PERIOD_MOST_DAYS", 30)
    month = {"start": "2025-01-01", "end": "2025-02-01"}
    assert refusal in desk_client.get("/staff/dashboard/", month).content.decode()
    assert desk_api.get(f"{api}?{urlencode(month)}").json() == {"errors": [refusal]}


def test_page_and_api_refuse_a_reversed_period_each_in_its_own_words(desk_client, desk_api, seen):
    reversed_period = {"start": "2025-01-02", "end": "2025-01-01"}
    page = desk_client.get("/staff/dashboard/", reversed_period)
    assert page.context["result"] is None
    assert page.context["form"].non_field_errors() == ["The end date is before the start date."]
    answer = desk_api.get(f"/measures/electronic-copy-access?{urlencode(reversed_period)}")
    assert answer.status_code == 422 and answer.json() == {"errors": ["end is before start."]}
    one_day = {"start": "2025-01-06", "end": "2025-01-06"}
    assert desk_client.get("/staff/dashboard/", one_day).context["result"].denominator == 2
    assert desk_api.get(f"/measures/electronic-copy-access?{urlencode(one_day)}").json()["denominator"] == 2
