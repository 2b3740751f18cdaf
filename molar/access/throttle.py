"""SPEC L6, K1: sign-in throttling, per username (any case) and per client address.

Counted in the database so that every web process and server sees the same
numbers. Each new lock is audited; staff see locks on the access page.
Patients' usernames are counted in the USERNAME scope, staff usernames in
STAFF (a patient "admin7" and the staff user "admin" never share a count);
a client address has one count for both. Every password or second-factor
guess counts the same way: sign-in, a second factor, the current password on
the profile page (SPEC K5) and the staff printout (SPEC K6)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from molar.audit.services import Actor, audit_record
from molar.practice.models import PracticeSettings

from .credentials import fold_username
from .models import PortalAccount, SignInFailure, SignInLock

USERNAME = SignInFailure.Scope.USERNAME
ADDRESS = SignInFailure.Scope.ADDRESS
STAFF = SignInFailure.Scope.STAFF


@dataclass(frozen=True)
class LockState:
    locked: bool
    reason: str = ""


def _active_lock(scope: str, key: str, now: datetime) -> SignInLock | None:
    return (
        SignInLock.objects.filter(scope=scope, key=key, locked_until__gt=now)
        .order_by("-locked_until")
        .first()
    )


def lock_state(account: PortalAccount, now: datetime | None = None) -> LockState:
    """Is this account locked for sign-in, and why (in words staff can repeat)?"""
    now = now or timezone.now()
    if account.hard_locked_at is not None:
        return LockState(
            True,
            f"Locked since {timezone.localtime(account.hard_locked_at):%Y-%m-%d %H:%M} "
            f"after {account.failed_attempts} failed sign-ins in a row. "
            "Generate New unlocks it.",
        )
    lock = _active_lock(USERNAME, account.username_folded, now)
    if lock is not None:
        return LockState(True, f"{lock.reason} Locked until {timezone.localtime(lock.locked_until):%H:%M}.")
    return LockState(False)


def paused(
    address: str | None, folded: str, account: PortalAccount | None, now: datetime, scope: str = USERNAME
) -> str:
    """Why a password or code may not even be checked now: "address blocked"
    (the client address is locked), "locked" (the username is, or the
    account is hard-locked), or "" (go ahead). One query for both locks:
    every sign-in asks (SPEC Q1)."""
    locks = Q(scope=scope, key=folded)
    if address:
        locks |= Q(scope=ADDRESS, key=address)
    scopes = set(SignInLock.objects.filter(locks, locked_until__gt=now).values_list("scope", flat=True))
    if address and ADDRESS in scopes:
        return "address blocked"
    if scope in scopes or (account is not None and account.hard_locked_at is not None):
        return "locked"
    return ""


def throttle_key(username: str) -> str:
    return fold_username(username)[:200]


def _count_and_maybe_lock(
    scope: str, key: str, limit: int, practice: PracticeSettings, now: datetime, patient_id: int | None
) -> None:
    window_start = now - timedelta(minutes=practice.lock_window_minutes)
    SignInFailure.objects.filter(scope=scope, key=key, created_at__lte=window_start).delete()
    SignInFailure.objects.create(scope=scope, key=key, created_at=now)
    recent = SignInFailure.objects.filter(scope=scope, key=key, created_at__gt=window_start).count()
    if recent >= limit and _active_lock(scope, key, now) is None:
        reason = (
            f"{recent} failed sign-ins in {practice.lock_window_minutes} minutes"
            f"{' from this address' if scope == ADDRESS else ''}."
        )
        SignInLock.objects.create(
            scope=scope,
            key=key,
            reason=reason,
            created_at=now,
            locked_until=now + timedelta(minutes=practice.lock_minutes),
        )
        audit_record(
            action="lock",
            actor=Actor.system("throttle"),
            patient_id=patient_id,
            detail={"scope": scope, "reason": reason, **({"username": key} if scope != ADDRESS else {})},
        )


def record_failure(
    *,
    username: str,
    address: str | None,
    account: PortalAccount | None,
    counted: bool,
    now: datetime,
    scope: str = USERNAME,
) -> None:
    """Count one failed sign-in. `counted` is False when the attempt was refused
    without checking the password (already locked): it then adds to the
    address count only, so a locked account cannot be pushed to the hard lock.
    `scope` is STAFF for staff usernames (no account, no hard lock)."""
    practice = PracticeSettings.cached()
    patient_id = account.patient_id if account else None
    if address:
        _count_and_maybe_lock(ADDRESS, address, practice.lock_address_failures, practice, now, patient_id)
    if not counted:
        return
    _count_and_maybe_lock(
        scope, throttle_key(username), practice.lock_username_failures, practice, now, patient_id
    )
    if account is not None:
        account.failed_attempts += 1
        if account.failed_attempts >= practice.hard_lock_failures and account.hard_locked_at is None:
            account.hard_locked_at = now
            audit_record(
                action="lock",
                actor=Actor.system("throttle"),
                patient_id=patient_id,
                detail={"scope": "account", "failures": account.failed_attempts},
            )
        account.save(update_fields=["failed_attempts", "hard_locked_at"])


def clear_username_locks(account: PortalAccount, actor: Actor) -> None:
    """Generate New (or a typed password) unlocks the username (SPEC L6)."""
    now = timezone.now()
    was_locked = lock_state(account, now).locked
    SignInLock.objects.filter(scope=USERNAME, key=account.username_folded, locked_until__gt=now).update(
        locked_until=now
    )
    SignInFailure.objects.filter(scope=USERNAME, key=account.username_folded).delete()
    account.failed_attempts = 0
    account.hard_locked_at = None
    if was_locked:
        audit_record(action="unlock", actor=actor, patient_id=account.patient_id)


def _unlock(scope: str, key: str, actor: Actor, named: str) -> bool:
    """Lift the lock on `key` and forget its failures; audited when a lock
    was lifted, with the key as `named`. True when one was."""
    now = timezone.now()
    lifted = SignInLock.objects.filter(scope=scope, key=key, locked_until__gt=now).update(locked_until=now)
    SignInFailure.objects.filter(scope=scope, key=key).delete()
    if lifted:
        audit_record(action="unlock", actor=actor, detail={"scope": scope, named: key})
    return bool(lifted)


def unlock_address(address: str, actor: Actor) -> bool:
    """`molar access unlock-address` (SPEC K8): lift an address block and
    forget its failures. True when a block was lifted."""
    return _unlock(ADDRESS, address, actor, "address")


def unlock_staff(username: str, actor: Actor) -> bool:
    """`molar staff unlock` (SPEC K8): lift a staff username's lock."""
    return _unlock(STAFF, throttle_key(username), actor, "username")
