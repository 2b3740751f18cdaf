"""Spending a password check's time when there is nothing to check (SPEC L1,
K1, K3): an unknown user, no access, a lock, no such code. The portal, staff
sign-in and second factors use it alike, so a wrong guess takes as long as a
real check and the answer's timing tells nothing."""

from functools import cache

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password


@cache
def _dummy_hash(hasher_names: tuple[str, ...]) -> str:
    # Keyed by the configured hashers, so a test's fast hasher gets its own.
    return make_password("molar-timing-equalizer")


def spend_hash_time(password: str) -> None:
    """Verify against a dummy hash anyway, so the answer takes as long as a
    real check."""
    check_password(password, _dummy_hash(tuple(settings.PASSWORD_HASHERS)))
