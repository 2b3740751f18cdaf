"""Practice settings (SPEC S1, S2, S4): administrators only."""

from molar.audit.models import AuditEvent
from molar.practice.models import PracticeSettings

FORM = {
    "form": "practice",
    "practice_name": "Harbor",
    "practice_phone": "207-555-0100",
    "practice_email": "desk@example.com",
    "address1": "",
    "address2": "",
    "city": "",
    "state": "",
    "zip": "",
    "country": "us",
    "portal_enabled": "on",
    "patient_facing_url": "https://portal.example.com/",
    "password_policy": "seed",
    "otp_max_age_days": "",
}


def test_front_desk_cannot_open_settings(desk_client, db):
    assert desk_client.get("/staff/settings/").status_code == 403
    assert AuditEvent.objects.filter(action="permission_denied").exists()


def test_admin_saves_settings_and_it_is_audited(admin_client, db):
    response = admin_client.submit("/staff/settings/", FORM)
    assert response.status_code == 302
    practice = PracticeSettings.load()
    assert practice.portal_enabled and practice.country == "US"
    assert practice.patient_facing_url == "https://portal.example.com/"
    event = AuditEvent.objects.get(action="settings_changed")
    assert "portal_enabled" in event.detail["fields"]


def test_http_url_refused_outside_localhost(admin_client, db):
    response = admin_client.submit(
        "/staff/settings/", {**FORM, "patient_facing_url": "http://portal.example.com/"}
    )
    assert "Patient Facing URL must start with https://" in response.content.decode()
    assert PracticeSettings.load().patient_facing_url == ""


def test_http_localhost_accepted_with_a_visible_note(admin_client, db):
    admin_client.submit("/staff/settings/", {**FORM, "patient_facing_url": "http://localhost:8000/portal/"})
    page = admin_client.get("/staff/settings/").content.decode()
    assert PracticeSettings.load().patient_facing_url == "http://localhost:8000/portal/"
    assert "works only on this computer" in page


def test_display_fields_chosen_and_ordered(admin_client, db):
    data = {"form": "display"}
    for key, order in (("patient_portal", 1), ("email", 2), ("name", 3)):
        data[f"show_{key}"] = "on"
        data[f"order_{key}"] = str(order)
    for key in ("preferred_name", "birth_date", "age", "address", "phone", "status", "provider", "guarantor"):
        data[f"order_{key}"] = "9"
    admin_client.submit("/staff/settings/", data)
    assert PracticeSettings.load().display_fields == ["patient_portal", "email", "name"]


def test_patient_portal_is_available_but_not_shown_by_default(admin_client, db):
    assert "patient_portal" not in PracticeSettings.load().display_fields
    assert "Patient Portal" in admin_client.get("/staff/settings/").content.decode()
