"""SPEC P2 on the staff page: upload a CSV, preview without writing, then import."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.patients import views
from molar.patients.importing import patients_import_csv
from molar.patients.models import Patient

URL = "/staff/patients/import/"
HEADER = "PatNum,FName,LName,DOB,Email\n"
MIXED = HEADER + (
    "1,Ana,Cruz,1990-02-03,ana@example.com\n"  # unchanged
    "2,Bo,Leigh,,\n"  # updated
    "3,Cy,Park,12/31/1999,\n"  # created
    "4,Old,Timer,1850-01-01,\n"  # bad
    "5,Dee,Fox,,not-an-email\n"
)  # bad


@pytest.fixture(autouse=True)
def molar_home(settings, tmp_path):
    settings.MOLAR_HOME = tmp_path
    return tmp_path


@pytest.fixture
def existing(make_patient):
    make_patient(
        external_id="1",
        first_name="Ana",
        last_name="Cruz",
        email="ana@example.com",
        birth_date=datetime.date(1990, 2, 3),
    )
    make_patient(external_id="2", first_name="Bo", last_name="Lee", email="", birth_date=None)


def upload(client, text: str | bytes, name: str = "patients.csv"):
    """Post like a browser: the CSRF token comes before the file in the form."""
    client.get(URL)
    content = text.encode() if isinstance(text, str) else text
    data = {
        "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        "file": SimpleUploadedFile(name, content, "text/csv"),
    }
    return client.post(URL, data)


def uploads(home):
    return sorted((home / "uploads").glob("*")) if (home / "uploads").exists() else []


def test_preview_shows_counts_rows_and_bad_rows_and_writes_nothing(desk_client, existing, molar_home):
    events, patients = AuditEvent.objects.count(), Patient.objects.count()
    response = upload(desk_client, MIXED)
    assert response.status_code == 302 and response["Location"] == "/staff/patients/import/preview/"
    page = desk_client.get(response["Location"]).content.decode()
    assert "Nothing has been saved yet." in page
    for label, count in (("Create", 1), ("Update", 1), ("Leave unchanged", 1)):
        assert f"<dt>{label}</dt><dd>{count} patient" in page
    assert "<dt>Skip as bad</dt><dd>2 rows</dd>" in page
    assert "<td>line 5</td><td>birth_date: Birth date must be between 1880-01-01 and today.</td>" in page
    assert "<td>line 6</td><td>email: Enter a valid email address.</td>" in page
    assert "Park, Cy" in page and "Dec 31, 1999" in page
    assert (AuditEvent.objects.count(), Patient.objects.count()) == (events, patients)
    assert Patient.objects.get(external_id="2").last_name == "Lee"
    [kept] = uploads(molar_home)
    assert kept.stat().st_mode & 0o777 == 0o600 and kept.read_text() == MIXED


def test_preview_counts_match_the_real_import(desk_client, existing, molar_home, tmp_path):
    upload(desk_client, MIXED)
    preview = desk_client.get("/staff/patients/import/preview/").context["summary"]
    response = desk_client.submit("/staff/patients/import/run/")
    done = response.context["summary"]
    assert response.status_code == 200
    assert "Imported: 1 created, 1 updated, 1 unchanged, 2 bad row(s)." in response.content.decode()
    assert [(s.created, s.updated, s.unchanged, s.bad) for s in (preview, done)] == [(1, 1, 1, 2)] * 2
    assert preview.problems == done.problems
    assert Patient.objects.get(external_id="2").last_name == "Leigh"
    assert Patient.objects.filter(external_id="3").exists()
    created = AuditEvent.objects.get(action="patient_created", actor_label="frontdesk")
    assert created.patient_id == Patient.objects.get(external_id="3").pk
    assert uploads(molar_home) == []  # deleted after the import
    # A second confirm has nothing left to import.
    again = desk_client.submit("/staff/patients/import/run/", follow=True)
    assert "No file is waiting to be imported. Upload it again." in again.content.decode()
    # And the CLI on the same file now changes nothing.
    path = tmp_path / "same.csv"
    path.write_text(MIXED)
    rerun = patients_import_csv(path=path, actor=Actor.system("test"))
    assert (rerun.created, rerun.updated, rerun.unchanged) == (0, 0, 3)


def test_preview_lists_only_the_first_twenty_rows(desk_client, db):
    upload(desk_client, HEADER + "".join(f"{n},P{n},L{n},,\n" for n in range(25)))
    page = desk_client.get("/staff/patients/import/preview/")
    assert len(page.context["summary"].preview) == 20 and page.context["summary"].created == 25
    assert "First 20 rows as they would be saved" in page.content.decode()


def test_a_file_over_the_limit_is_refused_with_a_message(desk_client, db, monkeypatch, molar_home):
    monkeypatch.setattr(views, "IMPORT_MAX_BYTES", 1024 * 1024)
    response = upload(desk_client, HEADER + "1,Ana,Cruz,,\n" * 100_000)
    assert response.status_code == 200
    assert "The file is larger than 1 MB. Split it into smaller files" in response.content.decode()
    assert uploads(molar_home) == [] and not Patient.objects.exists()


def test_upload_without_a_file_asks_for_one(desk_client, db):
    response = upload(desk_client, b"")
    assert "Choose a CSV file to import." in response.content.decode()


def test_a_file_that_cannot_be_imported_goes_back_with_the_reason(desk_client, db, molar_home):
    upload(desk_client, "first_name,last_name\nAna,Cruz\n")
    response = desk_client.get("/staff/patients/import/preview/", follow=True)
    assert "No external id column" in response.content.decode()
    assert uploads(molar_home) == []


def test_cancel_deletes_the_uploaded_file(desk_client, db, molar_home):
    upload(desk_client, MIXED)
    assert len(uploads(molar_home)) == 1
    response = desk_client.submit("/staff/patients/import/cancel/", follow=True)
    assert "Import cancelled" in response.content.decode()
    assert uploads(molar_home) == []


def test_the_file_comes_from_the_session_not_the_request(desk_client, db, molar_home):
    upload(desk_client, MIXED)
    session = desk_client.session
    session[views.IMPORT_SESSION_KEY] = {"token": "../../etc/passwd", "name": "x"}
    session.save()
    response = desk_client.submit("/staff/patients/import/run/", {"path": "/etc/passwd"}, follow=True)
    assert "No file is waiting to be imported." in response.content.decode()
    assert not Patient.objects.exists()


def test_posts_need_a_csrf_token(desk_client, db):
    data = {"file": SimpleUploadedFile("p.csv", MIXED.encode(), "text/csv")}
    assert desk_client.post(URL, data).status_code == 403
    assert desk_client.post("/staff/patients/import/run/").status_code == 403


def test_staff_without_the_add_permission_get_403(clerk_client, db):
    assert clerk_client.get(URL).status_code == 403
    assert clerk_client.get("/staff/patients/import/preview/").status_code == 403
    assert clerk_client.submit("/staff/patients/import/run/").status_code == 403
    assert AuditEvent.objects.filter(
        action="permission_denied", detail__permission="patients.add_patient"
    ).exists()


def test_signed_out_visitors_are_sent_to_sign_in(browser_client, db):
    response = browser_client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_patient_list_links_to_the_import_page_for_staff_who_may_import(desk_client, clerk_client):
    assert (
        'href="/staff/patients/import/">Import patients</a>'
        in desk_client.get("/staff/patients/").content.decode()
    )
    assert "Import patients" not in clerk_client.get("/staff/patients/").content.decode()
