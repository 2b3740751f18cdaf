"""SPEC L1: sign-in at the portal address."""

import contextlib
import datetime

import pytest

from molar.access.models import PortalAccount
from molar.access.services import access_generate_password, access_remove
from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.portal.services import SIGN_IN_FAILED, SignInFailed
from tests.conftest import CsrfClient

from .conftest import GOOD_PASSWORD, assert_refused, page_errors, set_new_password, sign_in


def test_sign_in_page_has_every_labelled_control(db):
    page = CsrfClient().get("/portal/").content.decode()
    for label in ("User Name", "Password", "Remember User Name", "Sign In", "Forgot Password", "Contact Us"):
        assert label in page


def test_username_is_case_insensitive(credentials):
    username, password = credentials
    response = sign_in(CsrfClient(), username.swapcase(), password)
    assert response.status_code == 302 and response["Location"] == "/portal/home/"


def test_password_is_case_sensitive(credentials):
    username, password = credentials
    response = sign_in(CsrfClient(), username, password.swapcase())
    assert page_errors(response) == [SIGN_IN_FAILED]


def test_one_message_for_every_failure(credentials, make_patient, practice):
    username, password = credentials
    other = make_patient(first_name="Removed")
    from molar.access.services import access_provide

    removed = access_provide(patient=other, actor=Actor.system("t"))
    access_remove(patient=other, actor=Actor.system("t"))
    cases = [("nobody-here", "Whatever1"), (username, "Wrong7Pass"), (removed.username, removed.password)]
    messages = {tuple(page_errors(sign_in(CsrfClient(), u, p))) for u, p in cases}
    assert messages == {(SIGN_IN_FAILED,)}


def test_failures_and_successes_are_audited_with_address(credentials):
    username, password = credentials
    sign_in(CsrfClient(), username, "Wrong7Pass", REMOTE_ADDR="203.0.113.9")
    sign_in(CsrfClient(REMOTE_ADDR="203.0.113.9"), username, password)
    failure = AuditEvent.objects.get(action="sign_in", outcome="failure")
    success = AuditEvent.objects.get(action="sign_in", outcome="success")
    assert failure.detail == {"reason": "wrong password", "username": username}
    assert success.client_ip == "203.0.113.9" and success.actor_type == "patient"


def test_unknown_username_is_not_recorded_in_audit(db, practice):
    sign_in(CsrfClient(), "Secret7Password", "x")
    event = AuditEvent.objects.get(action="sign_in")
    assert "Secret7Password" not in str(event.detail)


def test_sign_in_gives_a_new_session_id(credentials):
    from django.contrib.sessions.models import Session

    client = CsrfClient()
    session = client.session  # an existing (e.g. planted) session
    session["probe"] = 1
    session.save()
    before = client.cookies["sessionid"].value
    sign_in(client, *credentials)
    assert client.cookies["sessionid"].value != before
    assert not Session.objects.filter(session_key=before).exists()


def test_remember_user_name_prefills_the_form(credentials):
    client = CsrfClient()
    username, password = credentials
    sign_in(client, username, password, remember="on")
    client.submit("/portal/sign-out/")
    assert f'value="{username}"' in client.get("/portal/").content.decode()


def test_last_login_is_recorded(credentials):
    sign_in(CsrfClient(), *credentials)
    assert PortalAccount.objects.get().last_login is not None


@pytest.fixture
def argon2_verifies(monkeypatch):
    """Counts Argon2id verifies: the work that makes a sign-in slow."""
    from molar.access.hashers import MolarArgon2Hasher

    calls = []
    real = MolarArgon2Hasher.verify

    def counted(self, password, encoded):
        calls.append(encoded)
        return real(self, password, encoded)

    monkeypatch.setattr(MolarArgon2Hasher, "verify", counted)
    return calls


def verifies_for(calls: list, username: str, password: str, address: str | None = None) -> int:
    from molar.portal.services import portal_sign_in

    calls.clear()
    with contextlib.suppress(SignInFailed):
        portal_sign_in(username=username, password=password, address=address)
    return len(calls)


@pytest.mark.real_hasher
def test_every_refusal_spends_one_argon2_verify_like_a_real_check(credentials, make_patient, argon2_verifies):
    """SPEC L1, L6: a stranger cannot tell real, locked or removed usernames
    by the response time: each refusal verifies one Argon2id hash, as the
    real check does. Counting the verifies, not timing them, holds on a busy
    machine."""
    from django.utils import timezone

    from molar.access.models import SignInLock
    from molar.access.services import access_provide

    username, password = credentials
    removed = access_provide(patient=make_patient(first_name="Removed"), actor=Actor.system("t"))
    access_remove(
        patient=PortalAccount.objects.get(username=removed.username).patient, actor=Actor.system("t")
    )
    assert verifies_for(argon2_verifies, username, "Wrong7Pass") == 1
    assert verifies_for(argon2_verifies, "nobody-here", "Wrong7Pass") == 1
    assert verifies_for(argon2_verifies, removed.username, removed.password) == 1
    now = timezone.now()
    SignInLock.objects.create(
        scope="address",
        key="203.0.113.7",
        reason="test",
        created_at=now,
        locked_until=now + datetime.timedelta(minutes=15),
    )
    assert verifies_for(argon2_verifies, username, password, address="203.0.113.7") == 1
    PortalAccount.objects.filter(username=username).update(hard_locked_at=now)
    assert verifies_for(argon2_verifies, username, password) == 1
    assert not AuditEvent.objects.filter(action="sign_in", outcome="success").exists()
    PortalAccount.objects.filter(username=username).update(hard_locked_at=None)
    assert verifies_for(argon2_verifies, username, password) == 1  # the real path, for comparison
    assert AuditEvent.objects.filter(action="sign_in", outcome="success").exists()


def test_signed_in_patient_visiting_sign_in_goes_home(patient_client):
    response = patient_client.get("/portal/")
    assert response.status_code == 302 and response["Location"] == "/portal/home/"


def test_new_password_may_be_used_after_first_change(credentials):
    username, _ = credentials
    client = CsrfClient()
    sign_in(client, *credentials)
    set_new_password(client)
    client.submit("/portal/sign-out/")
    assert sign_in(CsrfClient(), username, GOOD_PASSWORD).status_code == 302


# --- What changes while the password is being hashed (before the transaction) ---


def _during_the_hash(monkeypatch, change):
    """Run `change` right after the sign-in's password check, as another
    request would while the hash ran."""
    from molar.portal import services

    check = services.check_password

    def checked_then_changed(*args, **kwargs):
        ok = check(*args, **kwargs)
        change()
        return ok

    monkeypatch.setattr(services, "check_password", checked_then_changed)


def test_a_new_password_from_staff_during_the_hash_refuses_the_sign_in(credentials, monkeypatch):
    username, password = credentials
    account = PortalAccount.objects.get(username=username)
    _during_the_hash(
        monkeypatch, lambda: access_generate_password(patient=account.patient, actor=Actor.system("t"))
    )
    client = CsrfClient()
    assert_refused(client, sign_in(client, username, password))
    event = AuditEvent.objects.get(action="sign_in")
    assert (event.outcome, event.detail["reason"]) == ("failure", "password changed meanwhile")
    assert PortalAccount.objects.get(pk=account.pk).last_login is None


def test_an_account_deleted_during_the_hash_is_refused_without_an_error(credentials, monkeypatch):
    username, password = credentials
    _during_the_hash(monkeypatch, lambda: PortalAccount.objects.filter(username=username).delete())
    client = CsrfClient()
    assert_refused(client, sign_in(client, username, password))
    event = AuditEvent.objects.get(action="sign_in")
    assert (event.outcome, event.detail, event.patient_id) == ("failure", {"reason": "unknown user"}, None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_sign_in_locks_the_account_row_and_not_the_patients(credentials, monkeypatch):
    """While a sign-in records its outcome, staff can still edit the patient
    (SPEC Q3); only the account row is held, against a Generate New."""
    from molar.portal import services
    from tests.postgres import row_is_locked

    username, password = credentials
    account = PortalAccount.objects.get(username=username)
    seen = {}
    record = services._record_sign_in

    def probe(*args, **kwargs):  # inside the sign-in's transaction, after the locking read
        seen["account"] = row_is_locked("access_portalaccount", account.pk)
        seen["patient"] = row_is_locked("patients_patient", account.patient_id)
        return record(*args, **kwargs)

    monkeypatch.setattr(services, "_record_sign_in", probe)
    assert sign_in(CsrfClient(), username, password).status_code == 302
    assert seen == {"account": True, "patient": False}
