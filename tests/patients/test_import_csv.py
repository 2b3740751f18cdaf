"""SPEC P2: `molar import patients FILE.csv`."""

import datetime
import re

import pytest
from django.core.management import CommandError, call_command

from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.patients import importing
from molar.patients.importing import patients_import_csv
from molar.patients.models import Patient
from molar.refusal import Refused

ACTOR = Actor.system("test")
HEADER = "external_id,first_name,last_name,birth_date,email\n"


def csv_file(tmp_path, text: str, name: str = "patients.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run(path, capsys):
    call_command("import", "patients", path)
    out, err = capsys.readouterr()
    return out.strip(), err.splitlines()


def test_columns_are_mapped_by_name_and_common_aliases(tmp_path, db, capsys):
    path = csv_file(
        tmp_path,
        (
            "PatNum,FName, middle_name ,LName,Preferred Name,Address,Address2,City,State,Zip Code,"
            "DOB,HmPhone,Cell,Work Phone,Email Address,Status,Favourite Colour\n"
            "A-1,Ana,B,Cruz,Annie,1 Main St,Apt 2,Portland,me,04101,02/03/1990,207-555-0111,"
            "207-555-0112,207-555-0113,ana@example.com,Non-patient,blue\n"
        ),
    )
    out, err = run(path, capsys)
    ana = Patient.objects.get(external_id="A-1")
    assert (ana.first_name, ana.middle_name, ana.last_name, ana.preferred_name) == (
        "Ana",
        "B",
        "Cruz",
        "Annie",
    )
    assert (ana.address1, ana.address2, ana.city, ana.state, ana.zip) == (
        "1 Main St",
        "Apt 2",
        "Portland",
        "ME",
        "04101",
    )
    assert ana.birth_date == datetime.date(1990, 2, 3)
    assert (ana.home_phone, ana.wireless_phone, ana.work_phone) == (
        "207-555-0111",
        "207-555-0112",
        "207-555-0113",
    )
    assert ana.email == "ana@example.com" and ana.status == Patient.Status.NON_PATIENT
    assert out == "Imported: 1 created, 0 updated, 0 unchanged, 0 bad row(s)."
    assert err == ["Ignored column(s): Favourite Colour."]


@pytest.mark.parametrize(
    ("title", "field"),
    [
        ("First Name", "first_name"),
        ("FIRST_NAME", "first_name"),
        ("last name", "last_name"),
        ("Birthdate", "birth_date"),
        ("Postal Code", "zip"),
        ("Mobile", "wireless_phone"),
        ("Wireless Phone", "wireless_phone"),
        ("Patient ID", "external_id"),
        ("ID", "external_id"),
        ("Address", "address1"),
        ("Email", "email"),
    ],
)
def test_header_aliases(title, field):
    assert importing.HEADERS[importing._header_key(title)] == field


def test_bad_rows_are_reported_by_line_and_reason_and_good_rows_kept(tmp_path, db, capsys):
    path = csv_file(
        tmp_path,
        HEADER
        + (
            "1,Ana,Cruz,1990-02-03,ana@example.com\n"
            "2,Old,Timer,1850-01-01,\n"
            "3,Bo,Lee,1985-13-45,not-an-email\n"
            ",No,Id,,\n"
            "5,Too,Many,,,extra\n"
            "1,Ana,Again,,\n"
            "7,Cy,Park,12/31/1999,\n"
        ),
    )
    out, err = run(path, capsys)
    assert err == [
        "line 3: birth_date: Birth date must be between 1880-01-01 and today.",
        "line 4: birth_date: “1985-13-45” is not a date (YYYY-MM-DD or MM/DD/YYYY). "
        "email: Enter a valid email address.",
        "line 5: external_id: required; later imports find the patient by it.",
        "line 6: has 6 values; the header has 5 columns.",
        "line 7: external_id: 1 appears earlier in this file; skipped.",
    ]
    assert out == "Imported: 2 created, 0 updated, 0 unchanged, 5 bad row(s)."
    assert sorted(Patient.objects.values_list("external_id", flat=True)) == ["1", "7"]
    assert Patient.objects.get(external_id="7").birth_date == datetime.date(1999, 12, 31)
    assert AuditEvent.objects.filter(action="patient_created").count() == 2


def test_a_rerun_of_the_same_file_changes_nothing(tmp_path, db, capsys):
    path = csv_file(
        tmp_path, HEADER + "1,Ana,Cruz,1990-02-03,ana@example.com\n2,Bo,Lee,,\n3,Old,Timer,1850-01-01,\n"
    )
    run(path, capsys)
    stamps = dict(Patient.objects.values_list("external_id", "updated_at"))
    events = AuditEvent.objects.count()
    out, err = run(path, capsys)
    assert out == "Imported: 0 created, 0 updated, 2 unchanged, 1 bad row(s)."
    assert AuditEvent.objects.count() == events
    assert dict(Patient.objects.values_list("external_id", "updated_at")) == stamps


def test_a_changed_row_updates_the_patient_instead_of_adding_one(tmp_path, make_patient, capsys):
    ana = make_patient(
        external_id="1",
        first_name="Ana",
        last_name="Cruz",
        email="ana@example.com",
        birth_date=datetime.date(1990, 2, 3),
    )
    out, _ = run(csv_file(tmp_path, HEADER + "1,Ana,Cruz-Lee,1990-02-03,ana@example.com\n"), capsys)
    assert out == "Imported: 0 created, 1 updated, 0 unchanged, 0 bad row(s)."
    ana.refresh_from_db()
    assert ana.last_name == "Cruz-Lee" and Patient.objects.count() == 1
    event = AuditEvent.objects.get(action="patient_updated", patient_id=ana.pk)
    assert event.detail == {"fields": ["last_name"]} and event.actor_label.startswith("import:")


def test_columns_missing_from_the_file_are_left_alone(tmp_path, make_patient, capsys):
    ana = make_patient(external_id="1", city="Portland", status=Patient.Status.ARCHIVED)
    run(csv_file(tmp_path, f"ID,first_name,status\n1,{ana.first_name},\n"), capsys)
    ana.refresh_from_db()
    assert ana.city == "Portland" and ana.status == Patient.Status.ARCHIVED


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("patient", "patient"),
        ("Non-patient", "non_patient"),
        ("NON_PATIENT", "non_patient"),
        ("2", "inactive"),
        ("Deceased", "deceased"),
    ],
)
def test_statuses_by_value_label_or_open_dental_number(tmp_path, db, capsys, value, status):
    run(csv_file(tmp_path, f"PatNum,FName,LName,PatStatus\n1,Ana,Cruz,{value}\n"), capsys)
    assert Patient.objects.get().status == status


def test_unknown_status_is_a_bad_row(tmp_path, db, capsys):
    with pytest.raises(CommandError, match="Nothing imported."):
        call_command("import", "patients", csv_file(tmp_path, "PatNum,PatStatus\n1,Royalty\n"))
    assert (
        "line 2: status: “Royalty” is not a status (patient, non-patient, inactive, archived, "
        "deceased, prospective)." in capsys.readouterr().err
    )


def test_a_nul_character_is_a_bad_row_not_a_database_error(tmp_path, db, capsys):
    _, err = run(csv_file(tmp_path, HEADER + "1,A\x00na,Cruz,,\n2,Bo,Lee,,\n"), capsys)
    assert err == ["line 2: first_name: contains a NUL character."]
    assert list(Patient.objects.values_list("external_id", flat=True)) == ["2"]


def test_a_quoted_value_over_two_lines_reports_its_first_line(tmp_path, db, capsys):
    path = csv_file(tmp_path, HEADER + '1,"Ana\nMaria",Cruz,,\n2,Bo,Lee,1850-01-01,\n')
    _, err = run(path, capsys)
    assert err == ["line 4: birth_date: Birth date must be between 1880-01-01 and today."]
    assert Patient.objects.get(external_id="1").first_name == "Ana\nMaria"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("first_name,last_name\nAna,Cruz\n", "No external id column (external_id, PatNum, Patient ID or ID)"),
        ("", "The file is empty"),
        ("ID,Cell,Mobile\n1,2,3\n", "Columns “Cell” and “Mobile” both hold wireless_phone; keep one."),
    ],
)
def test_a_file_that_cannot_be_imported_exits_with_one_line(tmp_path, db, text, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("import", "patients", csv_file(tmp_path, text))
    assert not Patient.objects.exists()


def test_unreadable_and_non_utf8_files_are_refused(tmp_path, db):
    with pytest.raises(CommandError, match="Cannot read /nonexistent.csv"):
        call_command("import", "patients", "/nonexistent.csv")
    path = tmp_path / "latin1.csv"
    path.write_bytes("ID,first_name\n1,Ana\n2,José\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import", "patients", str(path))
    assert not Patient.objects.exists()  # refused before the first row, not halfway


def test_every_row_bad_exits_non_zero(tmp_path, db, capsys):
    with pytest.raises(CommandError, match="Nothing imported."):
        call_command("import", "patients", csv_file(tmp_path, HEADER + "1,A,B,1850-01-01,\n"))
    assert capsys.readouterr().err.startswith("line 2: birth_date:")


def test_rows_commit_in_batches_with_progress(tmp_path, db, monkeypatch):
    monkeypatch.setattr(importing, "BATCH_ROWS", 2)
    monkeypatch.setattr(importing, "PROGRESS_ROWS", 2)
    rows = "".join(f"{n},P{n},L{n},,\n" for n in range(5)) + "9,Bad,Row,1850-01-01,\n"
    seen = []
    summary = patients_import_csv(path=csv_file(tmp_path, HEADER + rows), actor=ACTOR, progress=seen.append)
    assert seen == [2, 4, 6]
    assert (summary.created, summary.bad) == (5, 1)
    assert summary.problems == [("line 7", "birth_date: Birth date must be between 1880-01-01 and today.")]


def test_dry_run_writes_nothing_and_counts_like_the_real_import(tmp_path, make_patient):
    make_patient(external_id="1", first_name="Ana", last_name="Cruz", email="", birth_date=None)
    make_patient(external_id="2", first_name="Bo", last_name="Lee", email="", birth_date=None)
    path = csv_file(
        tmp_path,
        HEADER + "1,Ana,Cruz,,\n2,Bo,Changed,,\n3,New,One,,\n3,New,Twice,,\n4,Bad,Date,1850-01-01,\n",
    )
    events, patients = AuditEvent.objects.count(), Patient.objects.count()
    preview = patients_import_csv(path=path, actor=ACTOR, dry_run=True, preview_rows=20)
    assert (AuditEvent.objects.count(), Patient.objects.count()) == (events, patients)
    assert Patient.objects.get(external_id="2").last_name == "Lee"
    real = patients_import_csv(path=path, actor=ACTOR)
    counts = [(s.created, s.updated, s.unchanged, s.bad) for s in (preview, real)]
    assert counts[0] == counts[1] == (1, 1, 1, 2)
    assert preview.problems == real.problems
    assert [(row.where, row.result) for row in preview.preview] == [
        ("line 2", "unchanged"),
        ("line 3", "updated"),
        ("line 4", "created"),
    ]


def test_refused_file_raises_import_refused(tmp_path, db):
    with pytest.raises(Refused):
        patients_import_csv(path=csv_file(tmp_path, "name\nAna\n"), actor=ACTOR)


def test_seen_ids_grow_past_their_first_table():
    seen = importing._SeenIds()
    for n in range(5000):
        seen.add(f"P{n}")
    assert all(f"P{n}" in seen for n in range(5000))
    assert not any(f"Q{n}" in seen for n in range(5000))
