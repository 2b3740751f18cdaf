"""Staff accounts: front desk (patients + portal access) and administrators
(also practice settings and rules). Passwords come from `secrets`, are
printed once by the caller and stored hashed by Django (hashed before the
transaction that stores them, SPEC Q2). Disabling a user ends their
sessions and their API keys' use (keys act only for active users)."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission, User
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from molar.audit.services import Actor, audit_record
from molar.refusal import Refused

FRONT_DESK = (
    "patients.view_patient",
    "patients.add_patient",
    "patients.change_patient",
    "access.manage_portal_access",
    "opendental.view_syncpass",
)
ADMIN = (*FRONT_DESK, "practice.manage_settings")


def _group(name: str, perms: tuple[str, ...]) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    wanted = [
        Permission.objects.get(content_type__app_label=p.split(".")[0], codename=p.split(".")[1])
        for p in perms
    ]
    group.permissions.set(wanted)
    return group


def staff_add(*, username: str, admin: bool, actor: Actor) -> str:
    """Create the staff user, or reset the password of an existing one; returns
    the new password (16 characters, 96 bits)."""
    password = secrets.token_urlsafe(12)
    hashed = make_password(password)  # before the transaction (SPEC Q2)
    with transaction.atomic():
        user, created = get_user_model().objects.get_or_create(username=username)
        user.password = hashed
        user.is_active = True
        user.save()
        groups = [_group("Front desk", FRONT_DESK)]
        if admin:
            groups.append(_group("Administrators", ADMIN))
        user.groups.set(groups)
        audit_record(
            action="staff_added" if created else "staff_password_reset",
            actor=actor,
            detail={"username": username, "admin": admin},
        )
    return password


@dataclass(frozen=True)
class StaffRow:
    username: str
    admin: bool
    active: bool
    second_factors: int
    last_login: object


def staff_list() -> list[StaffRow]:
    from molar.staffauth.services import staff_is_admin

    users = get_user_model().objects.order_by("username").prefetch_related("second_factors")
    return [
        StaffRow(u.username, staff_is_admin(u), u.is_active, len(u.second_factors.all()), u.last_login)
        for u in users
    ]


def _user(username: str) -> User:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise Refused(f"No staff user {username}.")
    return user


def _end_sessions(user_id: int) -> int:
    ended = [
        s.pk
        for s in Session.objects.filter(expire_date__gt=timezone.now())
        if s.get_decoded().get("_auth_user_id") == str(user_id)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def staff_set_active(*, username: str, active: bool, actor: Actor) -> None:
    """`molar staff disable|enable` (SPEC K8): a disabled user cannot sign in,
    is signed out everywhere at once, and their API keys stop working."""
    with transaction.atomic():
        user = _user(username)
        if user.is_active == active:
            raise Refused(f"Staff user {username} is already {'enabled' if active else 'disabled'}.")
        user.is_active = active
        user.save(update_fields=["is_active"])
        sessions = 0 if active else _end_sessions(user.pk)
        audit_record(
            action="staff_enabled" if active else "staff_disabled",
            actor=actor,
            detail={"username": username, **({} if active else {"sessions_ended": sessions})},
        )


def staff_clear_factors(*, username: str, actor: Actor) -> int:
    """A colleague lost their phone and recovery codes: clear their second
    factors; they enroll again at the next sign-in (SPEC K2)."""
    from molar.factors.services import factors_clear

    return factors_clear(owner=_user(username), actor=actor)
