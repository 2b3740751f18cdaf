"""SPEC K1: staff sign-in is throttled per username and per address like the
portal (L6), audited with the client address, and staff sessions end at the
idle and absolute limits."""

import datetime

import time_machine
from django.contrib.sessions.models import Session

from molar.access.models import SignInLock
from molar.audit.models import AuditEvent
from molar.staffauth.session import staff_sessions_expire
from tests.conftest import CsrfClient

from .conftest import ADDRESS, sign_in, signed_in

START = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
REFUSED = "Your username and password didn&#x27;t match, or sign-in is paused"


def events(action: str, **filters):
    return AuditEvent.objects.filter(action=action, **filters).order_by("id")


def test_the_11th_sign_in_within_15_minutes_is_refused_even_with_the_right_password(
    desk_password, two_factor_off
):
    client = CsrfClient()
    with time_machine.travel(START, tick=False) as clock:
        for i in range(10):
            page = sign_in(client, "frontdesk", "wrong-password-1", address=f"198.51.100.{i + 1}")
            assert REFUSED in page.content.decode()
            clock.shift(datetime.timedelta(seconds=80))
        page = sign_in(client, "frontdesk", desk_password, address="192.0.2.50")
        assert REFUSED in page.content.decode() and not signed_in(client)
        lock = events("lock", detail__scope="staff").get()
        assert lock.detail["username"] == "frontdesk"
        assert events("staff_sign_in", outcome="failure").last().detail["reason"] == "locked"
        clock.shift(datetime.timedelta(minutes=15))
        sign_in(client, "frontdesk", desk_password, address="192.0.2.50")
        assert signed_in(client)


def test_nine_failures_do_not_lock(desk_password, two_factor_off):
    client = CsrfClient()
    for _ in range(9):
        sign_in(client, "frontdesk", "wrong-password-1")
    sign_in(client, "frontdesk", desk_password)
    assert signed_in(client)


def test_fifty_failures_from_one_address_block_it_for_every_username(desk_password, two_factor_off):
    client = CsrfClient()
    with time_machine.travel(START, tick=False):
        for i in range(50):
            sign_in(client, f"nobody{i}", "wrong-password-1")
        sign_in(client, "frontdesk", desk_password)
        assert not signed_in(client)
        assert events("lock", detail__scope="address").get().client_ip == ADDRESS
        other = CsrfClient()
        sign_in(other, "frontdesk", desk_password, address="192.0.2.77")
        assert signed_in(other)


def test_patients_and_staff_usernames_are_counted_apart(desk_password, two_factor_off):
    from molar.portal.services import SignInFailed, portal_sign_in

    for _ in range(10):
        try:
            portal_sign_in(username="frontdesk", password="wrong-password-1", address=None)
        except SignInFailed:
            pass
    client = CsrfClient()
    sign_in(client, "frontdesk", desk_password)
    assert signed_in(client)


def test_success_failure_and_sign_out_are_audited_with_the_address(desk_password, two_factor_off):
    client = CsrfClient()
    sign_in(client, "frontdesk", "wrong-password-1")
    sign_in(client, "nobody", "wrong-password-1")
    sign_in(client, "frontdesk", desk_password)
    response = client.submit("/staff/logout/", REMOTE_ADDR=ADDRESS)
    assert response.status_code == 302 and response["Location"] == "/staff/login/"
    assert response["Clear-Site-Data"] == '"cookies", "storage"'
    failures = list(events("staff_sign_in", outcome="failure"))
    assert [f.detail.get("username") for f in failures] == ["frontdesk", None]  # a typed name only if real
    assert all(f.client_ip == ADDRESS for f in failures)
    success = events("staff_sign_in", outcome="success").get()
    assert success.actor_label == "frontdesk" and success.client_ip == ADDRESS
    assert success.detail == {"second_factor": "none"}
    sign_out = events("staff_sign_out").get()
    assert sign_out.actor_label == "frontdesk" and sign_out.client_ip == ADDRESS
    assert not signed_in(client)


def test_a_session_ends_at_the_absolute_limit_whatever_the_activity(desk_password, two_factor_off, settings):
    settings.PORTAL_SESSION_MAX_SECONDS = 200
    client = CsrfClient()
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, "frontdesk", desk_password)
        clock.shift(datetime.timedelta(seconds=190))
        assert signed_in(client)
        clock.shift(datetime.timedelta(seconds=35))  # 225 s after sign-in, 35 s after the last request
        response = client.get("/staff/patients/", REMOTE_ADDR=ADDRESS)
        assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    timeout = events("staff_session_timeout").get()
    assert timeout.detail == {"limit": "absolute"} and timeout.client_ip == ADDRESS
    assert timeout.actor_label == "frontdesk"


def test_an_idle_session_ends_and_the_worker_audits_the_timeout(desk_password, two_factor_off):
    client = CsrfClient()
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, "frontdesk", desk_password)
        clock.shift(datetime.timedelta(minutes=14))
        assert staff_sessions_expire() == 0
        clock.shift(datetime.timedelta(minutes=1, seconds=1))
        assert not signed_in(client)
        assert staff_sessions_expire() == 1
        assert staff_sessions_expire() == 0  # once
    timeout = events("staff_session_timeout").get()
    assert timeout.detail == {"limit": "idle"} and timeout.client_ip == ADDRESS
    assert not Session.objects.filter(expire_date__lte=START + datetime.timedelta(minutes=16)).exists()


def test_the_lock_is_lifted_by_molar_staff_unlock(desk_password, two_factor_off):
    from django.core.management import call_command

    client = CsrfClient()
    for _ in range(10):
        sign_in(client, "frontdesk", "wrong-password-1")
    assert SignInLock.objects.filter(scope="staff").exists()
    call_command("staff", "unlock", "frontdesk")
    sign_in(client, "frontdesk", desk_password)
    assert signed_in(client)
    assert events("unlock", detail__scope="staff").get().actor_label.startswith("cli:")


def test_a_disabled_user_cannot_sign_in(desk_password, two_factor_off):
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username="frontdesk").update(is_active=False)
    client = CsrfClient()
    sign_in(client, "frontdesk", desk_password)
    assert not signed_in(client)
    assert events("staff_sign_in", outcome="failure").get().detail["reason"] == "disabled"


def test_next_goes_only_to_our_own_pages(desk_password, two_factor_off):
    client = CsrfClient()
    response = client.submit(
        "/staff/login/", {"username": "frontdesk", "password": desk_password, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/staff/patients/"
