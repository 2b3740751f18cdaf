"""SPEC I7 on the web page: the grant says what it did and offers the
letters once, kept meanwhile only as a ciphertext whose key is in the staff
member's browser."""

import datetime
import io

import pytest
from pypdf import PdfReader

from molar.access.models import PortalAccount
from molar.audit.models import AuditEvent
from molar.invites import sealed
from molar.invites.models import PendingLetter
from molar.ops.jobs import PERIODIC_JOBS
from molar.patients.models import Appointment
from tests.conftest import signed_in

FORM = {"action": "grant", "start": "2026-03-04", "end": "2026-03-04", "no_access_only": "on", "run": "1"}


@pytest.fixture(autouse=True)
def home(settings, tmp_path):
    settings.MOLAR_HOME = tmp_path
    return tmp_path


@pytest.fixture
def seen(make_patient):
    """Seen on the day: one who can be granted, one without an email."""
    ready = make_patient(first_name="Ready")
    no_email = make_patient(first_name="Noemail", email="")
    for patient in (ready, no_email):
        Appointment.objects.create(
            patient=patient, start=datetime.datetime(2026, 3, 4, 15, tzinfo=datetime.UTC)
        )
    return ready, no_email


def grant(client):
    response = client.submit("/staff/invites/bulk/", FORM)
    assert response.status_code == 302
    return response


def open_letters(client, result_url: str):
    return client.submit(f"{result_url}pdf")


def sealed_files(home):
    return list((home / "letters").glob("*.sealed"))


def test_the_grant_redirects_to_a_page_with_counts_and_reasons(desk_client, practice, seen):
    response = grant(desk_client)

    page = desk_client.get(response["Location"]).content.decode()
    assert "Granted online access to 1 patient; 1 skipped." in page
    assert "no email" in page and "Open the letters" in page
    assert PortalAccount.objects.get().patient == seen[0]
    assert desk_client.get(response["Location"]).status_code == 200  # a reload grants nobody again
    assert PortalAccount.objects.count() == 1


def test_the_key_goes_only_to_the_browser_in_a_strict_short_lived_cookie(desk_client, practice, seen, home):
    response = grant(desk_client)

    cookie = response.cookies["molar_letters"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["path"] == f"{response['Location']}pdf" and cookie["max-age"] == 3600
    assert not cookie["secure"]  # plain http in tests; SECURE_COOKIES or https sets it
    [ciphertext] = sealed_files(home)
    assert cookie.value not in ciphertext.read_bytes().decode("latin-1")
    assert oct(ciphertext.stat().st_mode & 0o777) == "0o600"


def test_letters_open_once_inline_then_say_they_were_taken(desk_client, practice, seen, home):
    result_url = grant(desk_client)["Location"]
    ciphertext = sealed_files(home)[0].read_bytes()

    response = open_letters(desk_client, result_url)

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert "no-store" in response["Cache-Control"]
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    account = PortalAccount.objects.get()
    password = text.split("Password:")[1].split()[0]
    assert account.username in text and account.check_password(password)
    # Nothing readable was written: the ciphertext holds neither the PDF nor the password.
    assert b"%PDF" not in ciphertext and password.encode() not in ciphertext
    assert sealed_files(home) == []
    assert not PendingLetter.objects.filter(lettered_at__isnull=True).exists()
    assert AuditEvent.objects.get(action="bulk_letters_taken").detail == {"letters": 1}

    again = open_letters(desk_client, result_url)
    assert again.status_code == 302 and again["Location"] == result_url
    page = desk_client.get(result_url).content.decode()
    assert "were already opened" in page and "Generate New" in page and "Open the letters" not in page


def test_another_staff_members_browser_gets_nothing(desk_client, practice, seen, home, admin):
    result_url = grant(desk_client)["Location"]
    other = signed_in(admin)

    assert other.get(result_url).status_code == 404
    assert open_letters(other, result_url).status_code == 404
    assert len(sealed_files(home)) == 1  # still there for the browser holding the key


def test_the_same_session_without_the_key_gets_nothing(desk_client, practice, seen, home):
    result_url = grant(desk_client)["Location"]
    del desk_client.cookies["molar_letters"]

    response = open_letters(desk_client, result_url)

    assert response.status_code == 302 and response["Location"] == result_url
    assert len(sealed_files(home)) == 1
    assert PendingLetter.objects.filter(lettered_at__isnull=True).count() == 1


def test_staff_without_the_permission_are_refused(clerk_client, desk_client, practice, seen):
    result_url = grant(desk_client)["Location"]

    assert clerk_client.get(result_url).status_code == 403
    assert clerk_client.submit(f"{result_url}pdf").status_code == 403


def test_letters_never_opened_stay_owed_and_a_new_run_reissues_them(desk_client, practice, seen, home):
    first = grant(desk_client)["Location"]
    account = PortalAccount.objects.get()
    old_hash = account.password

    second = grant(desk_client)["Location"]

    page = desk_client.get(second).content.decode()
    assert "1 letter owed by an earlier run re-issued with new one-time passwords" in page
    assert PortalAccount.objects.get().password != old_hash
    response = open_letters(desk_client, second)
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    password = text.split("Password:")[1].split()[0]
    assert PortalAccount.objects.get().check_password(password)
    # The first run's letters held the replaced password: they are gone.
    page = desk_client.get(first).content.decode()
    assert "a later run replaced them" in page and "Open the letters" not in page
    assert sealed_files(home) == []


def test_the_worker_removes_unopened_letters_after_an_hour(desk_client, practice, seen, home):
    import os
    import time

    assert ("bulk-letters-prune", 300, "molar.invites.sealed.letters_prune") in PERIODIC_JOBS
    grant(desk_client)
    [ciphertext] = sealed_files(home)
    assert sealed.letters_prune() == 0
    an_hour_ago = time.time() - 3601
    os.utime(ciphertext, (an_hour_ago, an_hour_ago))

    assert sealed.letters_prune() == 1
    assert sealed_files(home) == []
    assert PendingLetter.objects.filter(lettered_at__isnull=True).count() == 1  # still owed


def test_a_wrong_key_neither_opens_nor_destroys_the_letters(home, db):
    token, key = sealed.letters_seal(b"%PDF-letters")
    other_token, other_key = sealed.letters_seal(b"%PDF-other")

    assert sealed.letters_open(token, other_key) is None
    assert sealed.letters_open(token, "not base64 !") is None
    assert sealed.letters_open("../../etc/passwd", key) is None
    assert sealed.letters_open(token, key) == b"%PDF-letters"
    assert sealed.letters_open(token, key) is None
