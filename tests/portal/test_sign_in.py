"""SPEC L1: sign-in at the portal address."""

import contextlib
import re
import statistics
import time

import pytest

from molar.access.models import PortalAccount
from molar.access.services import access_remove
from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.portal.services import SIGN_IN_FAILED, SignInFailed
from tests.conftest import CsrfClient

from .conftest import GOOD_PASSWORD, set_new_password, sign_in


def page_errors(response) -> list[str]:
    block = re.search(r'<ul class="errorlist"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1)) if block else []


def test_sign_in_page_has_every_labelled_control(db):
    page = CsrfClient().get("/portal/").content.decode()
    for label in ("User Name", "Password", "Remember User Name", "Sign In", "Forgot Password",
                  "Contact Us"):
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


@pytest.mark.real_hasher
def test_unknown_user_costs_the_same_hashing_time(credentials):
    """SPEC L1: a stranger cannot tell real usernames by the response time."""
    from molar.portal.services import portal_sign_in

    username, _ = credentials

    def timed(name: str) -> float:
        start = time.perf_counter()
        with contextlib.suppress(SignInFailed):  # every call here fails by design
            portal_sign_in(username=name, password="Wrong7Pass", address=None)
        return time.perf_counter() - start

    known, unknown = [], []
    for i in range(30):
        # Fresh failures only: keep the username under its lock threshold.
        PortalAccount.objects.update(failed_attempts=0)
        from molar.access.models import SignInFailure, SignInLock

        SignInFailure.objects.all().delete()
        SignInLock.objects.all().delete()
        known.append(timed(username))
        unknown.append(timed(f"nobody{i}"))
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    assert abs(known_median - unknown_median) / known_median < 0.20, (known_median, unknown_median)


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
