"""SPEC O4: what Open Dental owns is read-only in Molar's pages and API."""

import pytest

from molar.patients.models import Appointment, GuardianLink, Patient
from molar.practice.models import PracticeSettings
from tests.patients.test_pages import FULL


@pytest.fixture
def synced(od, sync):
    od.pref("PracticeTitle", "Harbor Dental Group")
    mom = od.patient(FName="Ana", LName="Ortega")
    kid = od.patient(FName="Leo", LName="Ortega", Guarantor=mom)
    od.insert("guardian", PatNumChild=kid, PatNumGuardian=mom, Relationship=1, IsGuardian=1)
    od.appointment(kid)
    sync()
    return Patient.objects.get(od_pat_num=kid)


def test_edit_page_shows_managed_in_open_dental_and_changes_nothing(synced, desk_client):
    page = desk_client.get(f"/staff/patients/{synced.pk}/edit/").content.decode()
    assert "Managed in Open Dental" in page and 'id="managed-note"' in page
    assert "Save patient" not in page
    desk_client.submit(f"/staff/patients/{synced.pk}/edit/", {**FULL, "first_name": "Changed"})
    synced.refresh_from_db()
    assert synced.first_name == "Leo"
    assert GuardianLink.objects.get(patient=synced).is_guardian


def test_chart_says_managed_in_open_dental(synced, desk_client):
    page = desk_client.get(f"/staff/patients/{synced.pk}/").content.decode()
    assert f"Managed in Open Dental (PatNum {synced.od_pat_num})" in page
    assert "Ana Ortega" in page  # guardian and guarantor shown


def test_api_refuses_changes_to_synced_fields(synced, desk_api):
    response = desk_api.patch(f"/patients/{synced.pk}", json={"first_name": "Changed", "city": "X"})
    assert response.status_code == 422
    assert sorted(response.json()["errors"]) == [
        "city: Managed in Open Dental: change it there; the next sync brings it here.",
        "first_name: Managed in Open Dental: change it there; the next sync brings it here.",
    ]
    body = desk_api.get(f"/patients/{synced.pk}").json()
    assert body["managed_in_opendental"] and body["opendental_patnum"] == synced.od_pat_num
    assert body["first_name"] == "Leo"
    # Sending the same values is no change, so it is accepted.
    assert desk_api.patch(f"/patients/{synced.pk}", json={"first_name": "Leo"}).status_code == 200


def test_api_and_page_refuse_changes_to_synced_appointments(synced, desk_api, desk_client):
    appointment = Appointment.objects.get(patient=synced)
    response = desk_api.patch(f"/appointments/{appointment.pk}", json={"duration_minutes": 90})
    assert response.status_code == 422 and "Managed in Open Dental" in response.json()["errors"][0]
    page = desk_client.submit(
        f"/staff/patients/{synced.pk}/appointments/{appointment.pk}/",
        {"start": "2027-01-01T09:00", "duration_minutes": "90", "status": "scheduled"},
    )
    assert "Managed in Open Dental" in page.content.decode()
    appointment.refresh_from_db()
    assert appointment.duration_minutes == 30
    listed = desk_api.get(f"/patients/{synced.pk}/appointments").json()[0]
    assert listed["managed_in_opendental"] and listed["opendental_aptnum"] == appointment.od_apt_num


def test_practice_name_is_read_only_while_the_sync_is_configured(synced, admin_api, admin_client):
    response = admin_api.put("/settings/portal", json={"practice_name": "Other"})
    assert response.status_code == 422 and "Managed in Open Dental" in response.json()["errors"][0]
    response = admin_api.put("/settings/portal", json={"practice_email": "desk@harbor.example"})
    assert response.status_code == 200
    page = admin_client.get("/staff/settings/").content.decode()
    assert "Managed in Open Dental" in page
    assert PracticeSettings.load().practice_name == "Harbor Dental Group"


def test_molar_patients_stay_editable(synced, make_patient, desk_api):
    own = make_patient(first_name="Walk-in")
    assert desk_api.patch(f"/patients/{own.pk}", json={"first_name": "Walker"}).status_code == 200


def test_without_the_sync_synced_patients_become_editable(synced, desk_api, settings):
    """A practice that leaves Open Dental turns the sync off and edits here."""
    settings.OPENDENTAL_DATABASE_URL = ""
    assert desk_api.patch(f"/patients/{synced.pk}", json={"first_name": "Leonardo"}).status_code == 200
