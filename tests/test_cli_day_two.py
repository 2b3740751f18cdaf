"""SPEC K8: day-two commands, each audited with the operating-system user."""

import getpass
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from molar.access.models import PortalAccount, SignInLock
from molar.access.throttle import lock_state
from molar.api.models import ApiKey
from molar.audit.models import AuditEvent
from molar.portal.services import SignInFailed, portal_sign_in
from tests.conftest import ApiClient, signed_in

OS_USER = f"cli:{getpass.getuser()}"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def event(action: str) -> AuditEvent:
    found = AuditEvent.objects.get(action=action)
    assert found.actor_type == "system" and found.actor_label == OS_USER
    return found


def test_apikey_list_shows_keys_without_secrets(front_desk):
    key = run("apikey", "create", "frontdesk", "--label", "billing").strip()
    listing = run("apikey", "list")
    prefix = ApiKey.objects.get().prefix
    assert prefix in listing and "billing" in listing and "frontdesk" in listing and "active" in listing
    secret = key.split("_", 2)[2]  # molar_<prefix>_<secret>; the secret may hold "_" too
    assert secret and secret not in listing
    assert event("apikey_created").detail["prefix"] == prefix


def test_apikey_revoke_stops_the_key_at_once(front_desk, complete_patient):
    key = run("apikey", "create", "frontdesk").strip()
    api = ApiClient(key)
    assert api.get(f"/patients/{complete_patient.pk}").status_code == 200
    assert "revoked" in run("apikey", "revoke", key.split("_")[1])
    assert api.get(f"/patients/{complete_patient.pk}").status_code == 401
    assert "revoked" in run("apikey", "list")
    assert event("apikey_revoked").detail["user"] == "frontdesk"
    with pytest.raises(CommandError, match="already revoked"):
        run("apikey", "revoke", key.split("_")[1])
    with pytest.raises(CommandError, match="No API key"):
        run("apikey", "revoke", "ffffffff")


def test_staff_list_disable_and_enable(front_desk, admin, complete_patient):
    listing = run("staff", "list")
    assert "admin\tadministrator\tenabled" in listing and "frontdesk\tfront desk\tenabled" in listing
    client = signed_in(front_desk)
    key = run("apikey", "create", "frontdesk").strip()
    assert client.get("/staff/patients/").status_code == 200
    run("staff", "disable", "frontdesk")
    assert client.get("/staff/patients/").status_code == 302  # signed out at once
    assert ApiClient(key).get(f"/patients/{complete_patient.pk}").status_code == 401
    assert "frontdesk\tfront desk\tdisabled" in run("staff", "list")
    assert event("staff_disabled").detail == {"username": "frontdesk", "sessions_ended": 1}
    run("staff", "enable", "frontdesk")
    assert event("staff_enabled").detail == {"username": "frontdesk"}
    assert ApiClient(key).get(f"/patients/{complete_patient.pk}").status_code == 200
    with pytest.raises(CommandError, match="No staff user"):
        run("staff", "disable", "nobody")


def test_access_unlock_lifts_a_patient_lock(practice, complete_patient):
    username = run("access", "provide", str(complete_patient.pk)).splitlines()[0].split(": ")[1]
    for _ in range(10):
        with pytest.raises(SignInFailed):
            portal_sign_in(username=username, password="Wrong7Pass", address=None)
    assert lock_state(PortalAccount.objects.get()).locked
    assert "unlocked" in run("access", "unlock", str(complete_patient.pk))
    assert not lock_state(PortalAccount.objects.get()).locked
    assert event("unlock").patient_id == complete_patient.pk
    assert "not locked" in run("access", "unlock", str(complete_patient.pk))


def test_access_unlock_address_lifts_an_address_block(practice):
    for i in range(50):
        with pytest.raises(SignInFailed):
            portal_sign_in(username=f"nobody{i}", password="Wrong7Pass", address="203.0.113.9")
    assert SignInLock.objects.filter(scope="address", key="203.0.113.9").exists()
    assert "unblocked" in run("access", "unlock-address", "203.0.113.9")
    assert event("unlock").detail == {"scope": "address", "address": "203.0.113.9"}
    assert "not blocked" in run("access", "unlock-address", "203.0.113.9")
    with pytest.raises(CommandError, match="not an IP address"):
        run("access", "unlock-address", "nowhere")


def test_every_command_names_the_os_user(practice, complete_patient):
    run("staff", "add", "hygienist")
    run("access", "provide", str(complete_patient.pk))
    labels = set(
        AuditEvent.objects.filter(action__in=["staff_added", "access_provided"]).values_list(
            "actor_label", flat=True
        )
    )
    assert labels == {OS_USER}


def test_access_clear_factors_removes_a_patients_second_factors(practice, complete_patient):
    from molar.factors.models import RecoveryCode, SecondFactor

    run("access", "provide", str(complete_patient.pk))
    account = PortalAccount.objects.get()
    SecondFactor.objects.create(account=account, kind="totp", name="Phone", secret="sealed")
    RecoveryCode.objects.create(account=account, lookup="abcd", hashed="md5$x$y")
    assert "Cleared 1 second factor(s)" in run("access", "clear-factors", str(complete_patient.pk))
    assert not SecondFactor.objects.exists() and not RecoveryCode.objects.exists()
    assert event("second_factors_cleared").patient_id == complete_patient.pk
    with pytest.raises(CommandError, match="no two-step sign-in"):
        run("access", "clear-factors", str(complete_patient.pk))
