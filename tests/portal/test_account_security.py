"""SPEC K3, K5, K6, K7 on the patient side: forgot password does the same work
for every username, current-password guesses are throttled and audited, the
printout is no password oracle, and cookies and sign-out."""

import datetime

import pytest
import time_machine
from django.core import mail

from molar.access.models import PortalAccount
from molar.access.services import access_printout
from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.outbox.models import OutboxEmail
from molar.refusal import Refused
from tests import hashing
from tests.conftest import CsrfClient

from .conftest import GOOD_PASSWORD, sign_in

START = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
LOCKED = "Too many wrong passwords"


def change_password(client, current: str, new: str = "Fresh8Water"):
    return client.submit(
        "/portal/profile/", {"form": "password", "pw-current": current, "pw-new": new, "pw-confirm": new}
    )


# --- K3: forgot password -------------------------------------------------------------


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.hashing.DepthRecordingHasher", *settings.LEGACY_PASSWORD_HASHERS]
    hashing.CALLS.clear()


def work_of_forgot(username: str) -> dict:
    hashing.CALLS.clear()
    before = {"outbox": OutboxEmail.objects.count(), "audit": AuditEvent.objects.count()}
    page = CsrfClient().submit("/portal/forgot/", {"username": username}, follow=True)
    assert "If that user name has an account with an email address" in page.content.decode()
    return {
        "hashes": len(hashing.CALLS),
        "sent": len(mail.outbox),
        "outbox rows": OutboxEmail.objects.count() - before["outbox"],
        "audit rows": AuditEvent.objects.count() - before["audit"],
    }


@pytest.mark.real_hasher
def test_known_and_unknown_usernames_take_the_same_work(credentials, counting_hasher):
    known = work_of_forgot(credentials[0])
    unknown = work_of_forgot("Nobody4242")
    assert known == unknown == {"hashes": 0, "sent": 0, "outbox rows": 1, "audit rows": 1}
    rows = list(OutboxEmail.objects.order_by("id").values_list("status", "recipient", "reason"))
    assert rows[0][0] == "queued" and rows[0][1] and rows[1] == ("skipped", "", "unknown user")


def test_the_worker_sends_only_the_real_request(credentials, send_outbox):
    work_of_forgot(credentials[0])
    work_of_forgot("Nobody4242")
    assert send_outbox().sent == 1 and len(mail.outbox) == 1


def test_the_hourly_limit_counts_only_real_codes(credentials):
    for _ in range(7):
        work_of_forgot("Nobody4242")
    for _ in range(6):
        work_of_forgot(credentials[0])
    statuses = list(OutboxEmail.objects.filter(patient__isnull=False).values_list("status", flat=True))
    assert statuses.count("queued") == 5 and statuses.count("skipped") == 1


# --- K5: current password --------------------------------------------------------------


def test_a_failed_password_change_is_audited(patient_client):
    page = change_password(patient_client, "Wrong7Pass").content.decode()
    assert "The current password is not correct." in page
    event = AuditEvent.objects.get(action="password_changed", outcome="failure")
    assert event.detail == {"reasons": ["The current password is not correct."]}


def test_current_password_guesses_lock_like_sign_in(patient_client, credentials):
    with time_machine.travel(START, tick=False):
        for _ in range(10):
            change_password(patient_client, "Wrong7Pass")
        page = change_password(patient_client, GOOD_PASSWORD).content.decode()
        assert LOCKED in page  # even the right one, while locked
        assert AuditEvent.objects.filter(action="lock", detail__scope="username").count() == 1
        other = CsrfClient()
        sign_in(other, credentials[0], GOOD_PASSWORD)
        assert other.get("/portal/appointments/").status_code == 302  # sign-in locked too
    assert PortalAccount.objects.get().check_password(GOOD_PASSWORD)


def test_the_username_change_password_is_throttled_too(patient_client):
    with time_machine.travel(START, tick=False):
        for _ in range(10):
            patient_client.submit(
                "/portal/profile/",
                {"form": "username", "un-username": "Newname55", "un-password": "Wrong7Pass"},
            )
        page = patient_client.submit(
            "/portal/profile/", {"form": "username", "un-username": "Newname55", "un-password": GOOD_PASSWORD}
        ).content.decode()
    assert LOCKED in page and PortalAccount.objects.get().username != "Newname55"


def test_current_password_checks_hash_outside_transactions(patient_client, settings):
    from tests.test_hashing_outside_transactions import hashed_outside

    settings.PASSWORD_HASHERS = ["tests.hashing.DepthRecordingHasher", *settings.LEGACY_PASSWORD_HASHERS]
    hashing.CALLS.clear()
    base = hashing.depth()
    change_password(patient_client, "Wrong7Pass")
    assert hashed_outside(base)


# --- K6: printout --------------------------------------------------------------------


def test_the_printout_refuses_the_password_the_patient_chose(patient_client, complete_patient, settings):
    settings.PASSWORD_HASHERS = ["tests.hashing.DepthRecordingHasher", *settings.LEGACY_PASSWORD_HASHERS]
    hashing.CALLS.clear()
    for typed in (GOOD_PASSWORD, "Wrong7Pass"):  # right or wrong: the same refusal, no hash checked
        with pytest.raises(Refused) as refused:
            access_printout(patient=complete_patient, actor=Actor.system("t"), password=typed)
        assert "never printed" in refused.value.messages[0]
    assert hashing.CALLS == []


def test_printout_guesses_count_toward_the_lock(credentials, complete_patient):
    username, password = credentials
    with time_machine.travel(START, tick=False):
        for _ in range(10):
            with pytest.raises(Refused):
                access_printout(patient=complete_patient, actor=Actor.system("t"), password="Wrong7Pass")
        with pytest.raises(Refused) as refused:
            access_printout(patient=complete_patient, actor=Actor.system("t"), password=password)
        assert "Sign-in is locked" in refused.value.messages[0]
        client = CsrfClient()
        sign_in(client, username, password)
        assert client.get("/portal/password/new/").status_code == 302
    assert AuditEvent.objects.filter(action="lock", detail__scope="username").count() == 1


def test_the_api_printout_answers_422_for_the_patients_own_password(
    patient_client, complete_patient, desk_api
):
    response = desk_api.post(
        f"/patients/{complete_patient.pk}/portal-access/printout", json={"password": GOOD_PASSWORD}
    )
    assert response.status_code == 422 and "never printed" in response.json()["errors"][0]


# --- K7: cookies and sign-out ------------------------------------------------------------


def test_sign_out_clears_site_data(patient_client):
    response = patient_client.submit("/portal/sign-out/")
    assert response["Clear-Site-Data"] == '"cookies", "storage"'


def test_the_remember_cookie_is_an_opaque_token(credentials):
    username, password = credentials
    client = CsrfClient()
    sign_in(client, username, password, remember="on")
    token = client.cookies["molar_portal_remember"].value
    assert username.lower() not in token.lower() and "Maria" not in token
    again = CsrfClient()
    again.cookies["molar_portal_remember"] = token
    assert f'value="{username}"' in again.get("/portal/").content.decode()
    forged = CsrfClient()
    forged.cookies["molar_portal_remember"] = token[:-4] + "AAAA"
    assert f'value="{username}"' not in forged.get("/portal/").content.decode()


def test_the_remembered_username_follows_a_rename(credentials, complete_patient):
    from molar.access.services import access_rename

    client = CsrfClient()
    sign_in(client, *credentials, remember="on")
    access_rename(patient=complete_patient, actor=Actor.system("t"), username="Harbor55")
    client.submit("/portal/sign-out/")  # the browser would drop it (Clear-Site-Data); this client keeps it
    assert 'value="Harbor55"' in client.get("/portal/").content.decode()


def test_the_signed_out_notice_survives_clear_site_data(patient_client):
    """The browser drops the messages cookie with the others: the notice is in the address."""
    response = patient_client.submit("/portal/sign-out/")
    assert response["Location"] == "/portal/?signed-out=1"
    fresh = CsrfClient()  # as the browser is after Clear-Site-Data: no cookies at all
    assert "You are signed out." in fresh.get(response["Location"]).content.decode()
