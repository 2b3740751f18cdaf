"""Staff patient pages (SPEC P1, P2 web part) and the chart's panel (S4)."""

import datetime

import pytest
import time_machine

from molar.access.services import access_provide
from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.patients.models import GuardianLink, Patient
from molar.patients.services import patient_save_with_guardians
from molar.refusal import Refused

FULL = {
    "first_name": "Ana",
    "middle_name": "B",
    "last_name": "Cruz",
    "preferred_name": "Annie",
    "address1": "1 Main St",
    "address2": "Apt 2",
    "city": "Portland",
    "state": "me",
    "zip": "04101",
    "birth_date": "1990-02-03",
    "home_phone": "207-555-0111",
    "wireless_phone": "",
    "work_phone": "",
    "email": "ana@example.com",
    "status": "patient",
    "links-TOTAL_FORMS": "1",
    "links-INITIAL_FORMS": "0",
}


def test_create_patient_with_every_field(desk_client, db):
    response = desk_client.submit("/staff/patients/new/", FULL)
    patient = Patient.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/staff/patients/{patient.pk}/"
    assert patient.preferred_name == "Annie" and patient.state == "ME"
    assert patient.birth_date == datetime.date(1990, 2, 3)
    assert AuditEvent.objects.filter(action="patient_created", patient_id=patient.pk).exists()


def test_bad_input_is_reported_and_nothing_is_saved(desk_client, db):
    bad = {**FULL, "birth_date": "1850-01-01", "email": "not-an-email", "status": "royalty"}
    response = desk_client.submit("/staff/patients/new/", bad)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Birth date must be between 1880-01-01 and today." in page
    assert "Enter a valid email address." in page
    assert "Select a valid choice." in page
    assert not Patient.objects.exists()


def test_edit_patient_and_add_a_guardian_link(desk_client, make_patient):
    parent, child = make_patient(first_name="Pat"), make_patient(first_name="Kid")
    data = {
        **FULL,
        "first_name": "Kiddo",
        "links-0-guardian": str(parent.pk),
        "links-0-relationship": "Mother",
        "links-0-is_guardian": "on",
    }
    response = desk_client.submit(f"/staff/patients/{child.pk}/edit/", data)
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.first_name == "Kiddo"
    link = GuardianLink.objects.get(patient=child)
    assert link.guardian == parent and link.is_guardian and link.relationship == "Mother"


def test_guardian_link_to_unknown_patient_is_refused(desk_client, make_patient):
    child = make_patient()
    data = {**FULL, "links-0-guardian": "999999", "links-0-relationship": "Aunt"}
    response = desk_client.submit(f"/staff/patients/{child.pk}/edit/", data)
    assert "No patient has that number." in response.content.decode()
    assert not GuardianLink.objects.exists()
    child.refresh_from_db()
    assert child.first_name != "Ana"  # nothing half-written


def test_search_finds_by_name_email_phone_and_number(desk_client, make_patient):
    ana = make_patient(
        first_name="Anastasia", last_name="Ivanova", email="ai@example.com", home_phone="207-555-0777"
    )
    make_patient(first_name="Bob", last_name="Smith")
    for query in ("anast", "Ivanova", "ai@example", "555-0777", str(ana.pk)):
        page = desk_client.get("/staff/patients/", {"q": query}).content.decode()
        assert "Ivanova, Anastasia" in page and "Smith, Bob" not in page, query


def test_search_for_a_digit_that_is_not_a_number_finds_nothing(desk_client, make_patient):
    make_patient(first_name="Bob", last_name="Smith")
    for query in ("\u00b9", "\u00b9\u00b2\u00b3\u2074"):  # superscript digits
        response = desk_client.get("/staff/patients/", {"q": query})
        assert response.status_code == 200 and "Smith, Bob" not in response.content.decode()


def test_patient_portal_row_hidden_by_default(desk_client, practice, complete_patient):
    page = desk_client.get(f"/staff/patients/{complete_patient.pk}/").content.decode()
    assert "Patient Information" in page and "Birthdate" in page
    assert 'data-field="patient_portal"' not in page


def test_patient_portal_row_reads_no_access_then_online(desk_client, practice, complete_patient):
    practice.display_fields = ["patient_portal", "name"]
    practice.save()
    chart = f"/staff/patients/{complete_patient.pk}/"
    page = desk_client.get(chart).content.decode()
    assert page.index("Patient Portal") < page.index(">Name<")
    assert f'href="/staff/patients/{complete_patient.pk}/portal-access/"' in page
    assert ">No access</a>" in page
    access_provide(patient=complete_patient, actor=Actor.system("test"))
    assert ">Online</a>" in desk_client.get(chart).content.decode()


def test_staff_session_ends_after_15_idle_minutes(front_desk, browser_client, two_factor_off):
    from tests.conftest import staff_add

    password = staff_add(username="frontdesk", admin=False, actor=Actor.system("test"))
    with time_machine.travel(datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC), tick=False) as clock:
        browser_client.submit("/staff/login/", {"username": "frontdesk", "password": password})
        assert browser_client.get("/staff/patients/").status_code == 200
        clock.shift(datetime.timedelta(minutes=14, seconds=59))
        assert browser_client.get("/staff/patients/").status_code == 200  # activity renews
        clock.shift(datetime.timedelta(minutes=15, seconds=1))
        response = browser_client.get("/staff/patients/")
        assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_a_refused_guardian_link_leaves_the_patient_unchanged(desk_client, make_patient):
    """The page calls one service (patient_save_with_guardians) that saves the
    patient and the links together or not at all."""
    child = make_patient(first_name="Leo")
    data = {**FULL, "first_name": "Kiddo", "links-0-guardian": str(child.pk), "links-0-relationship": "Self"}
    page = desk_client.submit(f"/staff/patients/{child.pk}/edit/", data).content.decode()
    assert "A patient cannot be their own guardian." in page
    child.refresh_from_db()
    assert child.first_name == "Leo" and not child.guardian_links.exists()
    assert not AuditEvent.objects.filter(action="patient_updated", patient_id=child.pk).exists()


def test_the_service_saves_a_patient_with_links_or_nothing(make_patient):
    parent = make_patient(first_name="Ana")
    actor = Actor.system("test")
    links = [{"guardian": parent, "relationship": "Mother", "is_guardian": True}]
    made = patient_save_with_guardians(
        patient=None, actor=actor, links=links, first_name="Kid", last_name="Reyes"
    )
    assert [(g.guardian, g.is_guardian) for g in made.guardian_links.all()] == [(parent, True)]
    own = [*links, {"guardian": made, "relationship": "Self", "is_guardian": False}]
    with pytest.raises(Refused):
        patient_save_with_guardians(patient=made, actor=actor, links=own, first_name="Kiddo")
    made.refresh_from_db()
    assert made.first_name == "Kid" and made.guardian_links.count() == 1
