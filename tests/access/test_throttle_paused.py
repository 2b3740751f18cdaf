"""throttle.paused: both sign-in locks (the client address, the username or a
hard-locked account) answered with one query, with the address first."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from molar.access import throttle
from molar.access.models import PortalAccount, SignInLock
from molar.access.services import access_provide
from molar.audit.services import Actor

pytestmark = pytest.mark.django_db
ADDRESS = "203.0.113.7"


def _lock(scope: str, key: str, *, minutes: int = 15) -> None:
    now = timezone.now()
    SignInLock.objects.create(
        scope=scope,
        key=key,
        reason="test",
        created_at=now,
        locked_until=now + datetime.timedelta(minutes=minutes),
    )


@pytest.fixture
def account(practice, make_patient) -> PortalAccount:
    issued = access_provide(patient=make_patient(first_name="Ada"), actor=Actor.system("t"))
    return PortalAccount.objects.get(username=issued.username)


def test_nothing_locked_goes_ahead_with_one_query(account):
    with CaptureQueriesContext(connection) as queries:
        assert throttle.paused(ADDRESS, account.username_folded, account, timezone.now()) == ""
    assert len(queries) == 1


def test_a_locked_address_comes_first_even_when_the_username_is_locked_too(account):
    _lock("address", ADDRESS)
    _lock("username", account.username_folded)
    now = timezone.now()
    assert throttle.paused(ADDRESS, account.username_folded, account, now) == "address blocked"
    assert throttle.paused("198.51.100.1", account.username_folded, account, now) == "locked"
    assert throttle.paused(None, account.username_folded, account, now) == "locked"


def test_a_hard_locked_account_is_locked_without_a_lock_row(account):
    PortalAccount.objects.filter(pk=account.pk).update(hard_locked_at=timezone.now())
    account.refresh_from_db()
    assert throttle.paused(ADDRESS, account.username_folded, account, timezone.now()) == "locked"


def test_an_ended_lock_and_another_scope_do_not_pause(account):
    _lock("address", ADDRESS, minutes=-1)
    _lock("username", account.username_folded, minutes=-1)
    _lock("staff", account.username_folded)  # a staff user of the same name
    now = timezone.now()
    assert throttle.paused(ADDRESS, account.username_folded, account, now) == ""
    assert throttle.paused(ADDRESS, account.username_folded, None, now, scope="staff") == "locked"
