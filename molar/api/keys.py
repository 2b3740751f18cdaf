"""API keys: `molar_<prefix>_<secret>`; the prefix finds the row, the digest
of the whole key is compared in constant time."""

import hashlib
import hmac
import re
import secrets

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from molar.audit.services import Actor, audit_record
from molar.refusal import Refused

from .models import ApiKey

# What apikey_create makes. Anything else is refused before the database sees
# it (a NUL byte in a header would otherwise reach PostgreSQL and fail there).
KEY_SHAPE = re.compile(r"molar_([0-9a-f]{1,12})_[A-Za-z0-9_-]{1,100}")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def apikey_create(*, user: User, name: str, actor: Actor) -> str:
    """Make a key for `user`; the plaintext is returned once and never stored."""
    prefix = secrets.token_hex(4)  # 32 bits: only to find the row
    key = f"molar_{prefix}_{secrets.token_urlsafe(32)}"  # 256 bits of secret
    ApiKey.objects.create(user=user, name=name, prefix=prefix, digest=_digest(key))
    audit_record(
        action="apikey_created",
        actor=actor,
        detail={"user": user.get_username(), "name": name, "prefix": prefix},
    )
    return key


def apikey_user(key: str) -> User | None:
    """The active user the key acts for, or None."""
    shape = KEY_SHAPE.fullmatch(key)
    if shape is None:
        return None
    row = ApiKey.objects.select_related("user").filter(prefix=shape[1], revoked_at=None).first()
    if row is None or not hmac.compare_digest(row.digest, _digest(key)):
        return None
    if not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


def apikey_list() -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("user").order_by("created_at", "id")


@transaction.atomic
def apikey_revoke(*, prefix: str, actor: Actor) -> ApiKey:
    """SPEC K8: the key stops working at once; the row stays for the record."""
    row = ApiKey.objects.select_for_update(of=("self",)).select_related("user").filter(prefix=prefix).first()
    if row is None:
        raise Refused(f"No API key with prefix {prefix}.")
    if row.revoked_at is not None:
        raise Refused(f"API key {prefix} is already revoked.")
    row.revoked_at = timezone.now()
    row.save(update_fields=["revoked_at"])
    audit_record(
        action="apikey_revoked",
        actor=actor,
        detail={"user": row.user.get_username(), "name": row.name, "prefix": prefix},
    )
    return row
