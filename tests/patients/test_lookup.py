"""Staff pages, the API and `molar access` find a patient by one selector
(patients.selectors.patient_find), and the API's appointments name a provider
by another (provider_by_abbreviation)."""

import io

import pytest
from django.core.management import CommandError, call_command

from molar.patients.models import Patient, Provider
from molar.patients.selectors import patient_find, provider_by_abbreviation


def _cli_show(pk: int) -> str:
    out = io.StringIO()
    call_command("access", "show", str(pk), stdout=out)
    return out.getvalue().strip()


def test_page_api_and_command_find_the_same_patient(desk_client, desk_api, make_patient):
    archived = make_patient(first_name="Olga", status=Patient.Status.ARCHIVED)
    assert desk_client.get(f"/staff/patients/{archived.pk}/").status_code == 200
    assert desk_api.get(f"/patients/{archived.pk}").json()["first_name"] == "Olga"
    assert _cli_show(archived.pk) == f"Patient {archived.pk}: no portal account."


def test_page_api_and_command_refuse_an_unknown_number(desk_client, desk_api, db):
    assert patient_find(999999) is None
    assert desk_client.get("/staff/patients/999999/").status_code == 404
    assert desk_api.get("/patients/999999").json() == {"errors": ["Patient not found."]}
    with pytest.raises(CommandError, match=r"^No patient with id 999999\.$"):
        call_command("access", "show", "999999")


def test_patient_find_brings_what_the_chart_shows(make_patient, django_assert_num_queries):
    guarantor = make_patient(first_name="Ana")
    patient = make_patient(first_name="Leo", guarantor=guarantor)
    with django_assert_num_queries(1):
        found = patient_find(patient.pk)
        assert (found.guarantor.first_name, found.primary_provider, found.clinic) == ("Ana", None, None)


def test_an_abbreviation_names_one_provider_exactly(desk_api, make_patient, db):
    doc = Provider.objects.create(name="Dr. Ada Reyes", abbreviation="DOC1")
    assert provider_by_abbreviation("DOC1") == doc
    assert provider_by_abbreviation("doc1") is None
    patient = make_patient()
    made = desk_api.post(
        f"/patients/{patient.pk}/appointments", json={"start": "2026-12-01T09:30:00Z", "provider": "DOC1"}
    )
    assert made.status_code == 201 and made.json()["provider"] == "DOC1"
    refused = desk_api.post(
        f"/patients/{patient.pk}/appointments", json={"start": "2026-12-01T09:30:00Z", "provider": "doc1"}
    )
    assert refused.json() == {"errors": ["provider: Unknown provider doc1."]}
