"""SPEC P4 and X4 at every door: a patient has a first and a last name, a visit
falls in 1900-2100 and a birth date in 1880..today, on the staff pages, in the
API, the CSV and FHIR imports; a refused unit writes nothing."""

import datetime
import json

import pytest
from django.core.management import CommandError, call_command

from molar.audit.services import Actor
from molar.patients import fhir_import
from molar.patients.models import Appointment, Patient
from molar.patients.services import appointment_save, patient_create
from molar.refusal import Refused

EMPTY_FORM = {"links-TOTAL_FORMS": "1", "links-INITIAL_FORMS": "0", "status": "patient"}
YEAR_10000 = "9999-12-31T23:59:59-14:00"


def test_an_empty_new_patient_form_is_refused_with_both_names(desk_client, db):
    response = desk_client.submit("/staff/patients/new/", EMPTY_FORM)

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "first_name": ["First name is required."],
        "last_name": ["Last name is required."],
    }
    assert not Patient.objects.exists()


def test_editing_away_a_last_name_is_refused(desk_client, complete_patient):
    form = {**EMPTY_FORM, "first_name": "Maria", "last_name": "  "}
    response = desk_client.submit(f"/staff/patients/{complete_patient.pk}/edit/", form)

    assert response.context["form"].errors == {"last_name": ["Last name is required."]}
    complete_patient.refresh_from_db()
    assert complete_patient.last_name.startswith("Lopez")


@pytest.mark.parametrize(
    "start", ["9999-12-31T23:59", "0001-01-01T00:00", "1899-12-31T23:59", "2101-01-01T00:00"]
)
def test_the_appointment_form_refuses_visits_outside_1900_to_2100(desk_client, complete_patient, start):
    response = desk_client.submit(
        f"/staff/patients/{complete_patient.pk}/appointments/new/",
        {"start": start, "duration_minutes": "60", "status": "scheduled"},
    )

    assert response.context["form"].errors == {
        "start": ["The visit must be between 1900-01-01 and 2100-12-31."]
    }
    assert not Appointment.objects.exists()
    assert desk_client.get(f"/staff/patients/{complete_patient.pk}/").status_code == 200


@pytest.mark.parametrize("start", ["1900-01-01T00:00", "2100-12-31T23:59"])
def test_the_appointment_form_takes_the_ends_of_the_window(desk_client, complete_patient, start):
    response = desk_client.submit(
        f"/staff/patients/{complete_patient.pk}/appointments/new/",
        {"start": start, "duration_minutes": "60", "status": "scheduled"},
    )

    assert response.status_code == 302
    assert desk_client.get(f"/staff/patients/{complete_patient.pk}/").status_code == 200


def test_the_api_refuses_a_visit_that_would_be_stored_as_year_10000(desk_api, complete_patient):
    url = f"/patients/{complete_patient.pk}/appointments"

    response = desk_api.post(url, json={"start": YEAR_10000})

    assert response.status_code == 422
    assert response.json() == {"errors": ["start: The visit must be between 1900-01-01 and 2100-12-31."]}
    assert not Appointment.objects.exists()
    assert desk_api.get(url).status_code == 200


def test_the_api_refuses_moving_a_visit_out_of_the_window(desk_api, complete_patient):
    created = desk_api.post(
        f"/patients/{complete_patient.pk}/appointments", json={"start": "2026-03-04T09:00:00-05:00"}
    ).json()

    response = desk_api.patch(f"/appointments/{created['id']}", json={"start": "0001-01-01T00:00:00+14:00"})

    assert response.status_code == 422
    assert Appointment.objects.get().start == datetime.datetime(2026, 3, 4, 14, tzinfo=datetime.UTC)


def test_services_hold_the_rules_for_every_caller(db):
    actor = Actor.system("test")
    with pytest.raises(Refused) as refused:
        patient_create(actor=actor, external_id="A-1")
    assert refused.value.messages == [
        "first_name: First name is required.",
        "last_name: Last name is required.",
    ]
    patient = patient_create(actor=actor, first_name="Ana", last_name="Cruz")
    with pytest.raises(Refused):
        appointment_save(
            patient=patient, actor=actor, start=datetime.datetime(1899, 12, 31, 12, tzinfo=datetime.UTC)
        )
    assert not Appointment.objects.exists()


# --- CSV: the unit is a row ---------------------------------------------------------------


def test_a_csv_row_with_only_an_external_id_is_a_bad_line(tmp_path, db, capsys):
    path = tmp_path / "patients.csv"
    path.write_text("PatNum,FName,LName,Birthdate\n1,,,\n2,Bo,Lee,\n3,Cy,Dunn,1879-12-31\n", encoding="utf-8")

    call_command("import", "patients", str(path))

    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "line 2: first_name: First name is required. last_name: Last name is required.",
        "line 4: birth_date: Birth date must be between 1880-01-01 and today.",
    ]
    assert out.strip() == "Imported: 1 created, 0 updated, 0 unchanged, 2 bad row(s)."
    assert list(Patient.objects.values_list("external_id", flat=True)) == ["2"]


# --- FHIR: the unit is an entry, the file is refused whole when it is not a Bundle -----------


def _bundle(tmp_path, *resources) -> str:
    path = tmp_path / "bundle.json"
    path.write_text(
        json.dumps(
            {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
        ),
        encoding="utf-8",
    )
    return str(path)


def _patient(n: int, given: str = "Ana", family: str = "Cruz") -> dict:
    return {"resourceType": "Patient", "id": f"p-{n}", "name": [{"family": family, "given": [given]}]}


def test_a_nul_in_one_fhir_entry_names_that_entry_and_keeps_the_others(tmp_path, db, capsys):
    entries = [_patient(n) for n in range(250)]
    entries[210] = _patient(210, given="A\x00na")
    path = _bundle(tmp_path, *entries)

    call_command("import", "fhir", path)

    out, err = capsys.readouterr()
    assert err.splitlines() == ["entry[210]: first_name: contains a NUL character."]
    assert out.strip() == "Imported: 249 created, 0 updated, 0 unchanged, 1 bad entr(y/ies)."
    assert not Patient.objects.filter(external_id="p-210").exists()
    call_command("import", "fhir", path)  # the rerun: nothing new, no crash
    out, err = capsys.readouterr()
    assert out.strip() == "Imported: 0 created, 0 updated, 249 unchanged, 1 bad entr(y/ies)."
    assert Patient.objects.count() == 249


def test_a_nameless_fhir_entry_is_refused_by_index(tmp_path, db, capsys):
    nameless = {"resourceType": "Patient", "id": "p-2"}
    blank = _patient(3, given=" ", family="")  # FHIR itself refuses an empty string

    call_command("import", "fhir", _bundle(tmp_path, _patient(1), nameless, blank))

    err = capsys.readouterr().err.splitlines()
    assert err[0] == "entry[1]: first_name: First name is required. last_name: Last name is required."
    assert err[1].startswith(
        "entry[2]: not a valid FHIR R4 Patient: resource.name.0.family: "
        r"String should match pattern '[ \r\n\t\S]+'"
    )
    assert len(err) == 2 and Patient.objects.count() == 1


@pytest.mark.parametrize("depth", [100, 100_000])
def test_a_deeply_nested_json_file_is_refused_in_one_line(tmp_path, db, depth):
    path = tmp_path / "deep.json"
    path.write_text("[" * depth + "]" * depth, encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        call_command("import", "fhir", str(path))

    assert str(refused.value) == (
        "The file nests more than 64 levels deep; it is not a FHIR Bundle of patients."
    )


def test_a_huge_json_file_is_refused_before_it_is_read(tmp_path, db, monkeypatch):
    monkeypatch.setattr(fhir_import, "MAX_BYTES", 1024 * 1024)
    path = _bundle(tmp_path, *[_patient(n) for n in range(20_000)])

    with pytest.raises(CommandError) as refused:
        call_command("import", "fhir", path)

    assert str(refused.value) == (
        "The file is larger than 1 MB; split the Bundle into smaller files and import each one."
    )
    assert not Patient.objects.exists()


def test_the_command_line_prints_one_line_and_no_traceback(tmp_path, db):
    import subprocess
    import sys

    path = tmp_path / "deep.json"
    path.write_text('{"a": ' * 50_000 + "1" + "}" * 50_000, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "molar.cli", "import", "fhir", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "CommandError: The file nests more than 64 levels deep; it is not a FHIR Bundle of patients."
    ]
