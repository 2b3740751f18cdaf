"""SPEC L6: lockout numbers, exactly."""

import datetime

import time_machine

from molar.access.models import PortalAccount
from molar.access.services import access_generate_password
from molar.access.throttle import lock_state
from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.portal.services import SignInFailed, portal_sign_in

START = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
WRONG = "Wrong7Pass"


def attempt(username, password, address="198.51.100.7") -> bool:
    try:
        portal_sign_in(username=username, password=password, address=address)
    except SignInFailed:
        return False
    return True


def test_ten_failures_in_15_minutes_lock_the_username_in_any_case(credentials):
    username, password = credentials
    with time_machine.travel(START, tick=False) as clock:
        for i in range(10):
            attempt(username.upper() if i % 2 else username.lower(), WRONG, f"198.51.100.{i}")
            clock.shift(datetime.timedelta(seconds=60))
        assert not attempt(username, password, "192.0.2.1")  # even the right password
        assert lock_state(PortalAccount.objects.get()).locked
        assert AuditEvent.objects.filter(action="lock", detail__scope="username").count() == 1


def test_nine_failures_do_not_lock(credentials):
    username, password = credentials
    with time_machine.travel(START, tick=False):
        for _ in range(9):
            attempt(username, WRONG)
        assert attempt(username, password)


def test_failures_older_than_15_minutes_do_not_count(credentials):
    username, password = credentials
    with time_machine.travel(START, tick=False) as clock:
        attempt(username, WRONG)
        clock.shift(datetime.timedelta(minutes=15))
        for _ in range(9):
            attempt(username, WRONG)
        assert attempt(username, password)


def test_username_lock_lasts_15_minutes(credentials):
    username, password = credentials
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(10):
            attempt(username, WRONG)
        clock.shift(datetime.timedelta(minutes=14, seconds=59))
        assert not attempt(username, password)
        clock.shift(datetime.timedelta(seconds=1))
        assert attempt(username, password)


def test_100_consecutive_failures_lock_until_generate_new(credentials, complete_patient):
    username, _ = credentials
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(10):
            for _ in range(10):
                attempt(username, WRONG)
            clock.shift(datetime.timedelta(minutes=16))
        account = PortalAccount.objects.get()
        assert account.failed_attempts == 100 and account.hard_locked_at is not None
        clock.shift(datetime.timedelta(days=30))
        assert not attempt(username, credentials[1])
        assert "Generate New" in lock_state(account).reason
        new = access_generate_password(patient=complete_patient, actor=Actor.system("desk"))
        assert attempt(username, new)
    assert AuditEvent.objects.filter(action="unlock").exists()


def test_attempts_while_locked_do_not_push_toward_the_hard_lock(credentials):
    username, _ = credentials
    with time_machine.travel(START, tick=False):
        for _ in range(40):
            attempt(username, WRONG)
    assert PortalAccount.objects.get().failed_attempts == 10


def test_success_resets_the_consecutive_count(credentials):
    username, password = credentials
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            attempt(username, WRONG)
        attempt(username, password)
    assert PortalAccount.objects.get().failed_attempts == 0


def test_fifty_failures_from_one_address_block_it_for_15_minutes(credentials):
    username, password = credentials
    with time_machine.travel(START, tick=False) as clock:
        for i in range(50):
            attempt(f"stranger{i}", WRONG, "203.0.113.50")
        assert not attempt(username, password, "203.0.113.50")
        assert attempt(username, password, "203.0.113.51")
        clock.shift(datetime.timedelta(minutes=15))
        assert attempt(username, password, "203.0.113.50")
    assert AuditEvent.objects.filter(action="lock", detail__scope="address").count() == 1


def test_49_failures_from_one_address_do_not_block(credentials):
    username, password = credentials
    with time_machine.travel(START, tick=False):
        for i in range(49):
            attempt(f"stranger{i}", WRONG, "203.0.113.50")
        assert attempt(username, password, "203.0.113.50")


def test_client_address_comes_from_the_connection_not_a_header(credentials, settings):
    from tests.conftest import CsrfClient

    username, password = credentials
    client = CsrfClient()
    client.submit(
        "/portal/",
        {"username": username, "password": WRONG},
        HTTP_X_FORWARDED_FOR="1.2.3.4",
        REMOTE_ADDR="198.51.100.20",
    )
    assert AuditEvent.objects.get(action="sign_in").client_ip == "198.51.100.20"
    settings.MOLAR_TRUSTED_PROXY_COUNT = 1
    client.submit(
        "/portal/",
        {"username": username, "password": WRONG},
        HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.77",
        REMOTE_ADDR="10.0.0.2",
    )
    latest = AuditEvent.objects.filter(action="sign_in").order_by("-id").first()
    assert latest.client_ip == "203.0.113.77"
