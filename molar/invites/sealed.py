"""SPEC I7: the letters of a bulk grant made on the web page, kept sealed
until they are opened, once.

The grant runs in the request and the passwords exist only in memory; the
letters PDF is then encrypted (AES-256-GCM) under a fresh random key and
only the ciphertext is written, under MOLAR_HOME/letters/ named by a random
token. The key is not stored anywhere on the server: it goes to the staff
member's browser alone (an HttpOnly, SameSite=Strict cookie scoped to the
download path). Opening the letters decrypts them and deletes the
ciphertext; whoever deletes it first has them, so a second request (another
tab, a reload) gets nothing. Ciphertexts never opened are removed by the
worker after MAX_AGE_SECONDS; without the key they were never readable."""

import base64
import binascii
import os
import re
import secrets
import time
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

MAX_AGE_SECONDS = 3600
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
NONCE_BYTES = 12


def _folder() -> Path:
    folder = settings.MOLAR_HOME / "letters"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _path(token: str) -> Path | None:
    return _folder() / f"{token}.sealed" if TOKEN.fullmatch(token or "") else None


def letters_seal(pdf: bytes) -> tuple[str, str]:
    """Write `pdf` encrypted; returns (token naming it, key for the browser)."""
    key = AESGCM.generate_key(bit_length=256)  # 256 bits from the OS's random source
    token = secrets.token_urlsafe(32)  # 256 bits: names the file, guessing it gives nothing
    nonce = os.urandom(NONCE_BYTES)  # one message per key: any nonce is safe
    sealed = nonce + AESGCM(key).encrypt(nonce, pdf, token.encode())
    path = _path(token)
    assert path is not None  # token_urlsafe(32) always fits TOKEN
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(sealed)
    return token, base64.urlsafe_b64encode(key).decode()


def letters_waiting(token: str) -> bool:
    path = _path(token)
    return path is not None and path.exists()


def letters_open(token: str, key_text: str) -> bytes | None:
    """The PDF, once; None when it was taken, removed, or the key is not its own
    (then the ciphertext stays for the browser that holds the right key)."""
    path = _path(token)
    try:
        key = base64.urlsafe_b64decode(key_text or "")
        sealed = path.read_bytes() if path is not None and len(key) == 32 else b""
    except (binascii.Error, ValueError, FileNotFoundError):
        return None
    try:
        pdf = AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], token.encode())
    except (InvalidTag, ValueError):
        return None
    assert path is not None  # without a path nothing was read, and decrypting failed
    try:
        path.unlink()  # taken once: a request that gets here second finds it gone
    except FileNotFoundError:
        return None
    return pdf


def letters_discard(token: str) -> None:
    path = _path(token)
    if path is not None:
        path.unlink(missing_ok=True)


def letters_prune(max_age: float = MAX_AGE_SECONDS) -> int:
    """Remove ciphertexts nobody opened in time (a periodic job of the worker)."""
    removed, cutoff = 0, time.time() - max_age
    for path in _folder().glob("*.sealed"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
