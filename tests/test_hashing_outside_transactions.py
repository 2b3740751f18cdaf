"""SPEC Q2 / issue 9: no password hash runs inside a transaction. On SQLite a
transaction holds the database's only write lock for as long as it lasts,
and an Argon2id hash takes tens of milliseconds: one sign-in would stall
every other writer. Each service is driven through its slow path and every
hash it computed must have run at the depth the test started at."""

import datetime

import pytest
from django.contrib.auth.hashers import make_password

from molar.access.activation import activation_issue
from molar.access.models import PortalAccount
from molar.access.services import (
    access_generate_password,
    access_issue_one_time,
    access_printout,
    access_provide,
    access_set_password,
)
from molar.audit.services import Actor
from molar.portal.services import (
    SignInFailed,
    portal_activate,
    portal_password_change,
    portal_reset_complete,
    portal_sign_in,
)
from tests import hashing

DESK = Actor.system("test")
GOOD = "Harbor9Tide"


@pytest.fixture(autouse=True)
def recording_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.hashing.DepthRecordingHasher", *settings.LEGACY_PASSWORD_HASHERS]
    hashing.CALLS.clear()


@pytest.fixture
def base():
    return hashing.depth()


def hashed_outside(base: int) -> bool:
    calls = list(hashing.CALLS)
    hashing.CALLS.clear()
    assert calls, "the path under test computed no hash at all"
    return all(depth == base for depth in calls)


def test_staff_actions_hash_before_their_transaction(practice, complete_patient, base):
    creds = access_provide(patient=complete_patient, actor=DESK)
    assert hashed_outside(base)
    password = access_generate_password(patient=complete_patient, actor=DESK)
    assert hashed_outside(base)
    access_set_password(patient=complete_patient, actor=DESK, password="Lantern7Quay")
    assert hashed_outside(base)
    access_printout(patient=complete_patient, actor=DESK, password="Lantern7Quay")
    assert hashed_outside(base)
    assert creds.password != password


def test_invite_and_sheet_credentials_hash_before_their_transaction(practice, complete_patient, base):
    assert access_issue_one_time(patient=complete_patient, actor=DESK, source="invite") is not None
    assert hashed_outside(base)


def test_sign_in_checks_the_password_before_its_transaction(practice, complete_patient, base):
    creds = access_provide(patient=complete_patient, actor=DESK)
    hashing.CALLS.clear()
    assert portal_sign_in(username=creds.username, password=creds.password, address="192.0.2.1")
    assert hashed_outside(base)
    with pytest.raises(SignInFailed):
        portal_sign_in(username=creds.username, password="wrong", address="192.0.2.1")
    assert hashed_outside(base)
    with pytest.raises(SignInFailed):
        portal_sign_in(username="nobody123", password="wrong", address="192.0.2.1")
    assert hashed_outside(base)


def test_legacy_hash_is_replaced_with_a_hash_made_before_the_transaction(practice, complete_patient, base):
    access_provide(patient=complete_patient, actor=DESK)
    account = PortalAccount.objects.get(patient=complete_patient)
    # Open Dental's own test vector: password " " with an empty salt (SPEC C5).
    legacy = (
        "SHA3_512$$J3k3VWdgC8ffI5EhDVNr8aNfrtYZqm+bwUDFSbTbArOodGBxByKJC8S1gRmJwNKO0omhhpjb6DWp8nBMlfm4cA=="
    )
    PortalAccount.objects.filter(pk=account.pk).update(password=legacy, require_password_change=False)
    hashing.CALLS.clear()
    portal_sign_in(username=account.username, password=" ", address=None)
    assert hashed_outside(base)
    assert PortalAccount.objects.get(pk=account.pk).password.startswith("md5$")


def test_password_change_reset_and_activation_hash_before_their_transaction(
    practice, complete_patient, base, time_machine
):
    creds = access_provide(patient=complete_patient, actor=DESK)
    account = PortalAccount.objects.get(patient=complete_patient)
    hashing.CALLS.clear()
    portal_password_change(account=account, new=GOOD, confirm=GOOD)
    assert hashed_outside(base)
    portal_password_change(account=account, current=GOOD, new="Beacon4Pier", confirm="Beacon4Pier")
    assert hashed_outside(base)
    PortalAccount.objects.filter(pk=account.pk).update(
        reset_code_hash=make_password("ABCDE-FGHJK"),
        reset_code_created_at=datetime.datetime.now(datetime.UTC),
    )
    hashing.CALLS.clear()
    portal_reset_complete(
        username=creds.username, code="ABCDE-FGHJK", new="Harbor8Mast", confirm="Harbor8Mast"
    )
    assert hashed_outside(base)
    access_generate_password(patient=complete_patient, actor=DESK)
    token = activation_issue(PortalAccount.objects.get(pk=account.pk))
    hashing.CALLS.clear()
    portal_activate(token=token, new="Compass5Sail", confirm="Compass5Sail")
    assert hashed_outside(base)


def test_staff_sign_in_second_factors_and_recovery_codes_hash_outside_transactions(db, base):
    import pyotp
    import pytest as _pytest

    from molar.factors.services import factor_add_totp, factor_check_code
    from molar.factors.totp import totp_new_secret
    from molar.staffauth.accounts import staff_add
    from molar.staffauth.services import StaffSignInFailed, staff_password_check

    password = staff_add(username="admin", admin=True, actor=DESK)
    assert hashed_outside(base)
    user = staff_password_check(username="admin", password=password, address="192.0.2.1")
    assert hashed_outside(base)
    for name, typed in (("admin", "wrong"), ("nobody", "wrong")):
        with _pytest.raises(StaffSignInFailed):
            staff_password_check(username=name, password=typed, address="192.0.2.1")
        assert hashed_outside(base)
    secret = totp_new_secret()
    codes = factor_add_totp(owner=user, secret=secret, code=pyotp.TOTP(secret).now(), name="", actor=DESK)
    assert hashed_outside(base)  # ten recovery codes
    assert factor_check_code(user, codes[0]) == "recovery_code"
    assert factor_check_code(user, "AAAAA-BBBBB") is None
    assert hashed_outside(base)
