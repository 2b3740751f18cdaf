"""Staff sign-in (SPEC K1, K2): throttled per username and per client address
like the portal (SPEC L6), audited with the address, second factor after the
password. As on the portal, every refusal looks the same from outside and
costs one password hash; the hash runs before any transaction (SPEC Q2)."""

from datetime import datetime
from typing import NoReturn

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from molar.access import throttle
from molar.access.policy import normalize_password
from molar.audit.models import AuditEvent
from molar.audit.permissions import MANAGE_SETTINGS
from molar.audit.services import Actor, audit_record
from molar.factors import passkeys
from molar.factors.services import factor_check_code, factor_check_passkey
from molar.hashtime import spend_hash_time
from molar.practice.models import PracticeSettings

SIGN_IN_FAILED = (
    "Your username and password didn't match, or sign-in is paused for this username. Please try again later."
)
FACTOR_FAILED = (
    "That code or passkey was not accepted, or sign-in is paused for this username. Please try again later."
)
PASSWORD_LIMIT = 1000  # longer input is refused without hashing it
FAILURE = AuditEvent.Outcome.FAILURE
STAFF = throttle.STAFF


class StaffSignInFailed(Exception):
    def __init__(self, message: str = SIGN_IN_FAILED) -> None:
        self.message = message
        super().__init__(message)


def staff_is_admin(user: User) -> bool:
    return user.is_superuser or user.has_perm(MANAGE_SETTINGS)


def staff_second_factor_required(user: User) -> bool:
    """SPEC K2: for every staff user, or for administrators, as the practice says."""
    practice = PracticeSettings.cached()
    return practice.require_staff_two_factor or (practice.require_admin_two_factor and staff_is_admin(user))


def staff_password_check(*, username: str, password: str, address: str | None) -> User:
    """The user whose password this is, or StaffSignInFailed (counted, audited).
    Not signed in yet: a second factor may follow."""
    now = timezone.now()
    username = (username or "").strip()[:150]
    password = normalize_password((password or "")[:PASSWORD_LIMIT])  # SPEC K4
    user = get_user_model().objects.filter(username=username).first()
    reason, counted, rehash = _password_problem(user, username, password, address, now)
    if reason or user is None:  # no user always has a reason
        _refuse(user, username, address, reason, counted, now)
    if rehash:  # an older hasher's hash becomes Argon2id (made above, outside any transaction)
        get_user_model().objects.filter(pk=user.pk, password=user.password).update(password=rehash)
        user.password = rehash
    return user


def _password_problem(
    user: User | None, username: str, password: str, address: str | None, now: datetime
) -> tuple[str, bool, str]:
    paused = throttle.paused(address, throttle.throttle_key(username), None, now, scope=STAFF)
    if paused:  # "address blocked" or "locked": not counted, nothing checked
        spend_hash_time(password)
        return paused, False, ""
    if user is None or not user.is_active or not user.has_usable_password():
        spend_hash_time(password)
        return ("unknown user" if user is None else "disabled"), True, ""
    stale: list[str] = []
    if not check_password(password, user.password, setter=stale.append):
        return "wrong password", True, ""
    return "", False, make_password(password) if stale else ""


def _refuse(
    user: AbstractBaseUser | None,
    username: str,
    address: str | None,
    reason: str,
    counted: bool,
    now: datetime,
    message: str = SIGN_IN_FAILED,
) -> NoReturn:
    with transaction.atomic():
        throttle.record_failure(
            username=username, address=address, account=None, counted=counted, now=now, scope=STAFF
        )
        # The typed name only when it is a real one: people type passwords
        # into the username field.
        audit_record(
            action="staff_sign_in",
            actor=Actor.anonymous(),
            outcome=FAILURE,
            detail={"reason": reason, **({"username": user.get_username()} if user else {})},
        )
    raise StaffSignInFailed(message)


def staff_second_factor_check(
    *,
    user: AbstractBaseUser,
    address: str | None,
    code: str = "",
    request: HttpRequest,
    rp: passkeys.RelyingParty,
    credential: str = "",
) -> str:
    """The factor that worked ("totp", "passkey", "recovery_code"), or
    StaffSignInFailed. A wrong code counts toward the same locks as a wrong
    password; while locked no code is even checked."""
    now, username = timezone.now(), user.get_username()
    if throttle.paused(address, throttle.throttle_key(username), None, now, scope=STAFF):
        spend_hash_time(code)
        _refuse(user, username, address, "locked", False, now, FACTOR_FAILED)
    if credential:
        used = "passkey" if factor_check_passkey(user, request, rp, credential) else ""
    else:
        used = factor_check_code(user, code[:100]) or ""
    if not used:
        _refuse(user, username, address, "wrong second factor", True, now, FACTOR_FAILED)
    return used


def staff_signed_in(*, user: AbstractBaseUser, second_factor: str) -> None:
    audit_record(
        action="staff_sign_in", actor=Actor.staff(user), detail={"second_factor": second_factor or "none"}
    )


def staff_signed_out(*, user_id: int, username: str, reason: str = "") -> None:
    """SPEC K1: sign-out, or a timeout ("idle" or "absolute")."""
    actor = Actor(AuditEvent.ActorType.STAFF, user_id, username)
    if reason:
        audit_record(action="staff_session_timeout", actor=actor, detail={"limit": reason})
    else:
        audit_record(action="staff_sign_out", actor=actor)
