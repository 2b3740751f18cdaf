"""The `molar` command line (issue 2 item 9): staff, apikey and access commands call
the same services as the web and the API; errors are one line and exit non-zero."""

import getpass
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from pypdf import PdfReader

from molar.access.models import AccessEvent, PortalAccount
from molar.api.keys import KEY_SHAPE
from molar.audit.models import AuditEvent
from tests.conftest import PORTAL_URL, ApiClient

MOLAR = Path(sys.executable).with_name("molar")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        run(*args)
    message = str(caught.value)
    assert message.strip() and "\n" not in message
    return message


@pytest.fixture
def given_access(practice, complete_patient):
    """(patient, username, password) after `molar access provide`."""
    lines = run("access", "provide", str(complete_patient.pk)).splitlines()
    username = lines[0].removeprefix("Username: ")
    password = lines[1].removeprefix("Password: ")
    return complete_patient, username, password


# --- staff ----------------------------------------------------------------------------


def test_staff_add_prints_a_password_that_authenticates(db):
    output = run("staff", "add", "dana")

    password = output.strip().rsplit(" ", 1)[-1]
    user = authenticate(username="dana", password=password)
    assert user is not None
    assert user.has_perm("access.manage_portal_access")
    assert not user.has_perm("practice.manage_settings")


def test_staff_add_admin_also_manages_settings(db):
    password = run("staff", "add", "erin", "--admin").strip().rsplit(" ", 1)[-1]

    user = authenticate(username="erin", password=password)
    assert user.has_perm("practice.manage_settings")
    assert user.has_perm("access.manage_portal_access")


def test_staff_add_again_resets_the_password(db):
    first = run("staff", "add", "dana").strip().rsplit(" ", 1)[-1]
    second = run("staff", "add", "dana").strip().rsplit(" ", 1)[-1]

    assert first != second
    assert authenticate(username="dana", password=first) is None
    assert authenticate(username="dana", password=second) is not None
    assert get_user_model().objects.filter(username="dana").count() == 1


@pytest.mark.parametrize("name", ["   ", "x" * 151])
def test_staff_add_with_a_bad_name_is_an_error(db, name):
    assert refused("staff", "add", name) == "NAME must be 1 to 150 characters."


# --- apikey ---------------------------------------------------------------------------


def test_apikey_create_prints_only_the_key_and_it_works(front_desk, complete_patient):
    output = run("apikey", "create", "frontdesk")

    key = output.strip()
    assert output == f"{key}\n"
    assert KEY_SHAPE.fullmatch(key)
    response = ApiClient(key).get(f"/patients/{complete_patient.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == complete_patient.pk


def test_apikey_acts_with_its_users_permissions(clerk, complete_patient):
    key = run("apikey", "create", "clerk").strip()

    response = ApiClient(key).get(f"/patients/{complete_patient.pk}/portal-access")

    assert response.status_code == 403


def test_apikey_create_for_an_unknown_user_is_an_error(db):
    message = refused("apikey", "create", "nobody")

    assert "nobody" in message


# --- access ---------------------------------------------------------------------------


def test_access_show_without_account(practice, complete_patient):
    output = run("access", "show", str(complete_patient.pk))

    assert output == f"Patient {complete_patient.pk}: no portal account.\n"


def test_access_provide_grants_access_and_prints_the_password_once(practice, complete_patient):
    output = run("access", "provide", str(complete_patient.pk))

    account = PortalAccount.objects.get(patient=complete_patient)
    username, password, website = (line.split(": ", 1)[1] for line in output.splitlines())
    assert username == account.username
    assert account.check_password(password)
    assert account.require_password_change
    assert website == PORTAL_URL
    assert AccessEvent.objects.get(patient=complete_patient).source == "cli"
    event = AuditEvent.objects.get(action="access_provided", outcome="success")
    assert event.actor_type == "system" and event.actor_label == f"cli:{getpass.getuser()}"


def test_access_show_gives_state_but_never_the_password(given_access):
    patient, username, password = given_access

    output = run("access", "show", str(patient.pk))

    assert f"username {username}" in output
    assert "online" in output
    assert password not in output
    assert PortalAccount.objects.get(patient=patient).password not in output


def test_access_remove_keeps_the_row_and_username(given_access):
    patient, username, password = given_access

    output = run("access", "remove", str(patient.pk))

    assert output == f"Online access removed for patient {patient.pk}.\n"
    account = PortalAccount.objects.get(patient=patient)
    assert not account.has_access
    assert account.username == username
    assert not account.check_password(password)
    assert "no access" in run("access", "show", str(patient.pk))


def test_access_new_password_replaces_the_old_one(given_access):
    patient, _, old = given_access

    output = run("access", "new-password", str(patient.pk))

    new = output.strip().removeprefix("Password: ")
    account = PortalAccount.objects.get(patient=patient)
    assert new != old
    assert account.check_password(new)
    assert not account.check_password(old)
    assert AuditEvent.objects.filter(action="password_generated", outcome="success").exists()


def test_access_print_writes_the_pdf(given_access, tmp_path):
    patient, username, password = given_access
    target = tmp_path / "letter.pdf"

    output = run("access", "print", str(patient.pk), "--password", password, "-o", str(target))

    assert output == f"Wrote {target}.\n"
    text = PdfReader(target).pages[0].extract_text()
    assert username in text
    assert password in text
    assert AuditEvent.objects.filter(action="printed", outcome="success").exists()


def test_access_print_reads_the_password_from_stdin(given_access, tmp_path, monkeypatch):
    patient, _, password = given_access
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{password}\n"))
    target = tmp_path / "letter.pdf"

    run("access", "print", str(patient.pk), "--password", "-", "--output", str(target))

    assert password in PdfReader(target).pages[0].extract_text()


def test_access_print_with_a_wrong_password_is_an_error_and_writes_nothing(given_access, tmp_path):
    target = tmp_path / "letter.pdf"

    message = refused(
        "access", "print", str(given_access[0].pk), "--password", "Wrong7Pass", "--output", str(target)
    )

    assert "Please generate a new password." in message
    assert not target.exists()


def test_access_print_to_an_unwritable_place_is_an_error(given_access, tmp_path):
    target = tmp_path / "missing-dir" / "letter.pdf"

    message = refused(
        "access", "print", str(given_access[0].pk), "--password", given_access[2], "--output", str(target)
    )

    assert message.startswith(f"Cannot write {target}")


@pytest.mark.parametrize("verb", ["show", "provide", "remove", "new-password"])
def test_access_for_an_unknown_patient_is_an_error(practice, verb):
    assert refused("access", verb, "999999") == "No patient with id 999999."


def test_access_provide_for_an_ineligible_patient_lists_every_spec_message(practice, make_patient):
    patient = make_patient(address1="", wireless_phone="", email="")

    message = refused("access", "provide", str(patient.pk))

    assert message == (
        "Missing patient address line 1. "
        "Missing patient phone. Must have home, wireless, or work phone. "
        "Missing patient email."
    )
    assert not PortalAccount.objects.exists()


def test_access_provide_with_the_portal_off_is_an_error(practice, complete_patient):
    practice.portal_enabled = False
    practice.save()

    message = refused("access", "provide", str(complete_patient.pk))

    assert message == "Patient Portal is not enabled. Turn it on in eServices Setup."


def test_access_provide_twice_is_an_error(given_access):
    message = refused("access", "provide", str(given_access[0].pk))

    assert message == "Patient already has online access. Use Generate New for a new password."


@pytest.mark.parametrize("verb", ["remove", "new-password"])
def test_access_without_access_is_an_error(practice, complete_patient, verb):
    refused("access", verb, str(complete_patient.pk))

    assert not PortalAccount.objects.exists()


def test_console_script_exits_non_zero_with_one_line_on_stderr(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env.update(MOLAR_HOME=str(tmp_path), DJANGO_SETTINGS_MODULE="molar.settings")

    migrate = subprocess.run(
        [MOLAR, "migrate", "-v", "0"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert migrate.returncode == 0, migrate.stderr
    result = subprocess.run(
        [MOLAR, "access", "show", "999999"], env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip() == "CommandError: No patient with id 999999."
    assert len(result.stderr.strip().splitlines()) == 1
