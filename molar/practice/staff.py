"""Staff accounts: front desk (patients + portal access) and administrators
(also practice settings and rules). Passwords come from `secrets`, are
printed once by the caller and stored hashed by Django."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from molar.audit.services import Actor, audit_record

FRONT_DESK = ("patients.view_patient", "patients.add_patient", "patients.change_patient",
              "access.manage_portal_access", "opendental.view_syncpass")
ADMIN = (*FRONT_DESK, "practice.manage_settings")


def _group(name: str, perms: tuple[str, ...]) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    wanted = [Permission.objects.get(content_type__app_label=p.split(".")[0],
                                     codename=p.split(".")[1]) for p in perms]
    group.permissions.set(wanted)
    return group


@transaction.atomic
def staff_add(*, username: str, admin: bool, actor: Actor) -> str:
    """Create the staff user, or reset the password of an existing one; returns
    the new password (16 characters, 96 bits)."""
    password = secrets.token_urlsafe(12)
    user, created = get_user_model().objects.get_or_create(username=username)
    user.set_password(password)
    user.is_active = True
    user.save()
    groups = [_group("Front desk", FRONT_DESK)]
    if admin:
        groups.append(_group("Administrators", ADMIN))
    user.groups.set(groups)
    audit_record(action="staff_added" if created else "staff_password_reset", actor=actor,
                 detail={"username": username, "admin": admin})
    return password
