"""Production requirements as system checks: `molar check --deploy` names the
risk and the fix. Django's own deploy checks cover DEBUG, SECRET_KEY strength,
ALLOWED_HOSTS, HSTS and secure cookies."""

import os
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_secret_key_source(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    if os.environ.get("SECRET_KEY"):
        return []
    return [
        Warning(
            "SECRET_KEY is read from a file in MOLAR_HOME that the demo created.",
            hint="Set SECRET_KEY in the environment, the same on every server, from a secrets store.",
            id="molar.W001",
        )
    ]


@register(Tags.database, deploy=True)
def check_database(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return []
    return [
        Warning(
            "The database is SQLite: one server only, and no row locks between workers.",
            hint="Set DATABASE_URL=postgres://... for a practice's production server.",
            id="molar.W002",
        )
    ]


@register(deploy=True)
def check_email(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    if settings.EMAIL_BACKEND.endswith("smtp.EmailBackend") and os.environ.get("EMAIL_HOST"):
        return []
    return [
        Warning(
            "Email is not sent: reset codes and invites stay in a local outbox.",
            hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, "
            "EMAIL_USE_TLS, DEFAULT_FROM_EMAIL).",
            id="molar.W003",
        )
    ]


@register(Tags.security, deploy=True)
def check_https(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    if settings.HTTPS:
        return []
    return [
        Warning(
            "HTTPS is off: cookies are not marked Secure and there is no HSTS.",
            hint="Serve behind a TLS proxy and set HTTPS=true (and TRUST_X_FORWARDED_PROTO=true "
            "when the proxy sets X-Forwarded-Proto).",
            id="molar.W004",
        )
    ]


@register(Tags.security, deploy=True)
def check_audit_signing_key(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """SPEC T5: checkpoints signed with a key generated into MOLAR_HOME prove
    little if the key lives next to the database it vouches for."""
    if settings.AUDIT_SIGNING_KEY:
        from molar.audit.signing import private_key

        try:
            private_key()
        except Exception as exc:  # noqa: BLE001 - reported as the check's finding
            return [Warning(str(exc), hint="openssl rand -base64 32", id="molar.W006")]
        return []
    return [
        Warning(
            "AUDIT_SIGNING_KEY is not set: audit checkpoints are signed with a key the demo generated "
            "into MOLAR_HOME.",
            hint="Set AUDIT_SIGNING_KEY (32 random bytes in base64: openssl rand -base64 32) from a "
            "secrets store, the same on every worker, and keep `molar audit checkpoint` lines "
            "outside the database.",
            id="molar.W005",
        )
    ]


@register(Tags.security, deploy=True)
def check_two_factor(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """SPEC K2: administrators (and, by default, all staff) sign in with a
    second factor; the demo turns both off so that it starts with one command."""
    from django.db import DatabaseError

    from molar.practice.models import PracticeSettings

    try:
        row = (
            PracticeSettings.objects.filter(pk=1)
            .values("require_staff_two_factor", "require_admin_two_factor")
            .first()
        )
    except DatabaseError as exc:
        return [
            Warning(
                f"The practice's two-factor settings could not be read ({type(exc).__name__}).",
                hint="Check DATABASE_URL and run `molar migrate`, then run this check again.",
                id="molar.W008",
            )
        ]
    if row is None:  # a new install: both are on by default
        return []
    off = [
        who
        for who, on in (
            ("staff", row["require_staff_two_factor"]),
            ("administrators", row["require_admin_two_factor"]),
        )
        if not on
    ]
    if not off:
        return []
    return [
        Warning(
            f"Two-factor sign-in is not required for {' or '.join(off)}: a stolen password is enough "
            "to read every patient's record.",
            hint='Turn on "Require two-factor sign-in for staff" and "... for administrators" in '
            "Staff > Settings (the demo turns them off).",
            id="molar.W007",
        )
    ]
