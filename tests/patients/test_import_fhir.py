"""SPEC P2: `molar import fhir FILE.json` takes an R4 Bundle of Patient resources."""

import datetime
import json

import pytest
from django.core.management import CommandError, call_command

from molar.audit.models import AuditEvent
from molar.patients.models import Patient

ANA = {
    "resourceType": "Patient",
    "id": "res-1",
    "identifier": [{"system": "urn:oid:2.16.840.1.113883.3.0", "value": "MRN-1"}],
    "name": [
        {"use": "nickname", "given": ["Annie"]},
        {"use": "official", "family": "Cruz", "given": ["Ana", "Beatriz", "Maria"]},
    ],
    "birthDate": "1990-02-03",
    "address": [{"line": ["1 Main St", "Apt 2"], "city": "Portland", "state": "me", "postalCode": "04101"}],
    "telecom": [
        {"system": "phone", "use": "mobile", "value": "207-555-0112"},
        {"system": "phone", "use": "home", "value": "207-555-0111"},
        {"system": "phone", "use": "work", "value": "207-555-0113"},
        {"system": "email", "value": "ana@example.com"},
    ],
}
BO = {
    "resourceType": "Patient",
    "id": "res-2",
    "name": [{"family": "Lee", "given": ["Bo"]}],
    "deceasedBoolean": True,
}


def bundle_file(tmp_path, *resources, raw: str | None = None):
    path = tmp_path / "bundle.json"
    body = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{n}", "resource": r} for n, r in enumerate(resources)],
    }
    path.write_text(raw if raw is not None else json.dumps(body), encoding="utf-8")
    return str(path)


def run(path, capsys):
    call_command("import", "fhir", path)
    out, err = capsys.readouterr()
    return out.strip(), err.splitlines()


def test_a_valid_bundle_creates_patients(tmp_path, db, capsys):
    out, err = run(bundle_file(tmp_path, ANA, BO), capsys)
    assert (out, err) == ("Imported: 2 created, 0 updated, 0 unchanged, 0 bad entr(y/ies).", [])
    ana = Patient.objects.get(external_id="MRN-1")  # identifier[0] before the resource id
    assert (ana.first_name, ana.middle_name, ana.last_name, ana.preferred_name) == (
        "Ana",
        "Beatriz Maria",
        "Cruz",
        "Annie",
    )
    assert ana.birth_date == datetime.date(1990, 2, 3)
    assert (ana.address1, ana.address2, ana.city, ana.state, ana.zip) == (
        "1 Main St",
        "Apt 2",
        "Portland",
        "ME",
        "04101",
    )
    assert (ana.home_phone, ana.wireless_phone, ana.work_phone, ana.email) == (
        "207-555-0111",
        "207-555-0112",
        "207-555-0113",
        "ana@example.com",
    )
    bo = Patient.objects.get(external_id="res-2")  # no identifier: the resource id
    assert bo.status == Patient.Status.DECEASED and bo.birth_date is None
    assert AuditEvent.objects.filter(action="patient_created").count() == 2


def test_a_second_import_updates_by_external_id_and_a_rerun_changes_nothing(tmp_path, db, capsys):
    run(bundle_file(tmp_path, ANA), capsys)
    moved = {**ANA, "address": [{"line": ["9 Elm St"], "city": "Bangor", "state": "ME"}]}
    out, _ = run(bundle_file(tmp_path, moved), capsys)
    assert out.startswith("Imported: 0 created, 1 updated, 0 unchanged")
    ana = Patient.objects.get()
    assert (ana.address1, ana.address2, ana.city, ana.zip) == ("9 Elm St", "", "Bangor", "")
    events = AuditEvent.objects.count()
    out, _ = run(bundle_file(tmp_path, moved), capsys)
    assert out.startswith("Imported: 0 created, 0 updated, 1 unchanged")
    assert AuditEvent.objects.count() == events


def test_entries_that_are_not_patients_are_reported_by_index(tmp_path, db, capsys):
    observation = {"resourceType": "Observation", "status": "final", "code": {"text": "BP"}}
    out, err = run(bundle_file(tmp_path, observation, ANA), capsys)
    assert err == ["entry[0]: Observation is not a Patient; skipped."]
    assert out == "Imported: 1 created, 0 updated, 0 unchanged, 1 bad entr(y/ies)."


def test_invalid_patients_are_reported_by_index_with_the_reason(tmp_path, db, capsys):
    bad_date = {**BO, "id": "res-3", "birthDate": "03/02/1990"}
    bad_shape = {**BO, "id": "res-4", "name": [{"given": "Bo"}]}
    too_old = {**BO, "id": "res-5", "birthDate": "1850-01-01"}
    partial = {**BO, "id": "res-6", "birthDate": "1990-05"}
    out, err = run(bundle_file(tmp_path, ANA, bad_date, bad_shape, too_old, partial), capsys)
    assert err[0].startswith("entry[1]: not a valid FHIR R4 Patient: resource.birthDate: ")
    assert err[1] == (
        "entry[2]: not a valid FHIR R4 Patient: resource.name.0.given: Input should be a valid list."
    )
    assert err[2:] == [
        "entry[3]: birth_date: Birth date must be between 1880-01-01 and today.",
        "entry[4]: birthDate: 1990-05 is not a full date (YYYY-MM-DD).",
    ]
    assert out == "Imported: 1 created, 0 updated, 0 unchanged, 4 bad entr(y/ies)."
    assert list(Patient.objects.values_list("external_id", flat=True)) == ["MRN-1"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "The file is not JSON"),
        (json.dumps(ANA), "The file is not a FHIR Bundle: its resourceType must be “Bundle”."),
        (
            json.dumps({"resourceType": "Bundle", "entry": []}),
            "The Bundle is not valid FHIR R4: type: Value for the field 'type' is required.",
        ),
        (
            json.dumps({"resourceType": "Bundle", "type": "collection", "entry": {"resource": ANA}}),
            "The Bundle is not valid FHIR R4: entry must be a list.",
        ),
    ],
)
def test_a_broken_bundle_is_one_error_and_nothing_is_saved(tmp_path, db, raw, message):
    with pytest.raises(CommandError) as caught:
        call_command("import", "fhir", bundle_file(tmp_path, raw=raw))
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
    assert not Patient.objects.exists()


def test_a_bundle_of_only_bad_entries_exits_non_zero(tmp_path, db, capsys):
    with pytest.raises(CommandError, match="Nothing imported."):
        call_command("import", "fhir", bundle_file(tmp_path, {"resourceType": "Patient"}))
    assert capsys.readouterr().err.splitlines() == [
        "entry[0]: external_id: required; later imports find the patient by it."
    ]
