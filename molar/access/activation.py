"""Activation links (SPEC I2 [ActivationLink]). Security-sensitive: keep small.

The token (256 bits from `secrets`) is in the link only; the database keeps
its SHA-256 digest. A token is good once, for 7 days, and only while the
account's password hash is the one it was issued against."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import ActivationToken, PortalAccount

LIFETIME = timedelta(days=7)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _binding(account: PortalAccount) -> str:
    return salted_hmac("molar.activation", account.password, algorithm="sha256").hexdigest()


def activation_issue(account: PortalAccount, now: datetime | None = None) -> str:
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    ActivationToken.objects.create(
        account=account,
        digest=_digest(token),
        binding=_binding(account),
        created_at=now,
        expires_at=now + LIFETIME,
    )
    return token


def activation_find(token: str, *, lock: bool = False) -> ActivationToken | None:
    """The usable token row for `token`, or None (unknown, used, expired, or
    the password changed since it was issued)."""
    if not token or len(token) > 100:
        return None
    rows = ActivationToken.objects.select_related("account__patient")
    if lock:
        # The token row alone: staff lock the patient, then the account
        # (access/services.py), so holding either here could close a cycle.
        rows = rows.select_for_update(of=("self",))
    row = rows.filter(digest=_digest(token)).first()
    if row is None or row.used_at is not None or timezone.now() > row.expires_at:
        return None
    if not row.account.has_access or not constant_time_compare(row.binding, _binding(row.account)):
        return None
    return row
