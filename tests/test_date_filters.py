"""SPEC X4: a day filter never overflows. The widest days a form or the API
accepts (0001-01-01 to 9999-12-31) select what the 1900-2100 window selects,
on the audit report and its CSV, the audit API, the invite list, the bulk
selection, the dashboard and the measure API."""

import datetime

import pytest

from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record
from molar.dates import day_after, day_start
from molar.invites.bulk import Criteria, bulk_candidates
from molar.patients.models import Appointment

WIDEST = {"start": "0001-01-01", "end": "9999-12-31"}


@pytest.fixture
def event(db):
    audit_record(action="settings_changed", actor=Actor.system("test"))
    return AuditEvent.objects.get(action="settings_changed")


def test_clamped_days_are_the_window_ends():
    zone = datetime.UTC
    assert day_start(datetime.date.min, zone) == datetime.datetime(1900, 1, 1, tzinfo=zone)
    assert day_after(datetime.date.max, zone) == datetime.datetime(2101, 1, 1, tzinfo=zone)
    assert day_after(datetime.date(2026, 3, 4), zone) == datetime.datetime(2026, 3, 5, tzinfo=zone)


def test_audit_report_and_csv_take_the_widest_dates(admin_client, event):
    page = admin_client.get("/staff/audit/", WIDEST)
    export = admin_client.get("/staff/audit/export.csv", WIDEST)

    assert page.status_code == 200
    assert event.pk in [e.pk for e in page.context["events"]]
    assert export.status_code == 200
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0].startswith("id,created_at")
    assert any(line.startswith(f"{event.pk},") for line in lines[1:])


def test_audit_api_takes_the_widest_dates(admin_api, event):
    response = admin_api.get("/audit?start=0001-01-01&end=9999-12-31")

    assert response.status_code == 200
    assert event.pk in [row["id"] for row in response.json()]


def test_invite_list_takes_the_widest_dates(desk_client, db):
    assert desk_client.get("/staff/invites/", WIDEST).status_code == 200


def test_bulk_selection_of_the_widest_dates_finds_the_visits(complete_patient):
    Appointment.objects.create(
        patient=complete_patient, start=datetime.datetime(2026, 3, 4, 15, tzinfo=datetime.UTC)
    )
    criteria = Criteria(start=datetime.date(9999, 1, 1), end=datetime.date(9999, 12, 31))
    assert not bulk_candidates(criteria).exists()
    criteria = Criteria(start=datetime.date(1, 1, 1), end=datetime.date(9999, 12, 31))
    assert list(bulk_candidates(criteria)) == [complete_patient]


def test_bulk_page_dry_run_of_far_dates_is_a_page(desk_client, practice):
    response = desk_client.submit(
        "/staff/invites/bulk/",
        {"action": "grant", "start": "9999-12-30", "end": "9999-12-31", "dry_run": "1"},
    )
    assert response.status_code == 200 and "No patients match." in response.content.decode()


def test_dashboard_and_measure_api_take_far_dates(desk_client, desk_api, practice):
    assert (
        desk_client.get("/staff/dashboard/", {"start": "9999-12-01", "end": "9999-12-31"}).status_code == 200
    )
    response = desk_api.get("/measures/electronic-copy-access?start=9999-12-01&end=9999-12-31")
    assert response.status_code == 200 and response.json()["denominator"] == 0
    response = desk_api.get("/measures/electronic-copy-access?start=0001-01-01&end=0001-12-31")
    assert response.status_code == 200 and response.json()["denominator"] == 0
