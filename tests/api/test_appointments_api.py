"""Appointments through the API (issue 3 item 8)."""

import datetime

import pytest

from molar.audit.models import AuditEvent
from molar.patients.models import Appointment, Provider


@pytest.fixture
def provider(db):
    return Provider.objects.create(name="Dr. Ada Reyes", abbreviation="DOC1")


def test_create_list_and_patch_an_appointment(desk_api, complete_patient, provider):
    url = f"/patients/{complete_patient.pk}/appointments"
    created = desk_api.post(
        url,
        {
            "start": "2026-12-01T09:30:00-05:00",
            "duration_minutes": 45,
            "provider": "DOC1",
            "status": "scheduled",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["provider"] == "DOC1" and body["duration_minutes"] == 45
    expected = datetime.datetime(2026, 12, 1, 14, 30, tzinfo=datetime.UTC)
    assert datetime.datetime.fromisoformat(body["start"]) == expected
    assert Appointment.objects.get().start == expected
    listed = desk_api.get(url).json()
    assert [a["id"] for a in listed] == [body["id"]]
    patched = desk_api.patch(f"/appointments/{body['id']}", {"status": "complete"})
    assert patched.status_code == 200 and patched.json()["status"] == "complete"
    assert Appointment.objects.get().status == "complete"
    assert AuditEvent.objects.filter(action="appointment_updated").exists()


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"start": "2026-12-01T09:30:00"}, "timezone"),
        ({"start": "tomorrow"}, "start"),
        ({"start": "2026-12-01T09:30:00Z", "status": "cancelled"}, "status"),
        ({"start": "2026-12-01T09:30:00Z", "duration_minutes": 0}, "duration_minutes"),
        ({"start": "2026-12-01T09:30:00Z", "provider": "NOPE"}, "Unknown provider NOPE."),
    ],
)
def test_bad_appointments_are_422_with_a_message(desk_api, complete_patient, provider, payload, fragment):
    response = desk_api.post(f"/patients/{complete_patient.pk}/appointments", payload)
    assert response.status_code == 422
    assert any(fragment in message for message in response.json()["errors"])
    assert not Appointment.objects.exists()


def test_unknown_patient_and_appointment_are_404(desk_api, db):
    assert desk_api.get("/patients/999999/appointments").status_code == 404
    assert desk_api.patch("/appointments/999999", {"status": "broken"}).status_code == 404


def test_appointments_need_a_key_and_the_permission(anonymous_api, clerk_api, complete_patient):
    url = f"/patients/{complete_patient.pk}/appointments"
    assert anonymous_api.get(url).status_code == 401
    assert clerk_api.get(url).status_code == 200  # clerks may view patients
    response = clerk_api.post(url, {"start": "2026-12-01T09:30:00Z"})
    assert response.status_code == 403
