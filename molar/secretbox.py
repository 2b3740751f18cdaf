"""Sealing small values with a key derived from SECRET_KEY (Fernet: AES-128-CBC
plus HMAC-SHA256, with a random IV, so the same value seals differently each
time). Used where the server must read a value back, so a hash cannot do:
TOTP secrets at rest (SPEC K2) and the remember-username cookie (SPEC K7).
SECRET_KEY_FALLBACKS still open values sealed before a key rotation."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet(purpose: str) -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"molar.{purpose}:{key}".encode()).digest()))
            for key in keys
        ]
    )


def seal(value: str, *, purpose: str) -> str:
    return _fernet(purpose).encrypt(value.encode()).decode("ascii")


def unseal(token: str, *, purpose: str, max_age: int | None = None) -> str | None:
    """The sealed value, or None when the token is forged, for another purpose,
    or older than `max_age` seconds."""
    try:
        return _fernet(purpose).decrypt(token.encode("ascii"), ttl=max_age).decode()
    except (InvalidToken, UnicodeError, ValueError):
        return None
