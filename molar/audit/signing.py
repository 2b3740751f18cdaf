"""SPEC T5: signing audit checkpoints with AUDIT_SIGNING_KEY (Ed25519).

A checkpoint says "the first `size` sealed events hash to `root`", signed.
Ed25519 rather than an HMAC: the public half can check an exported
checkpoint without being able to make one, as Certificate Transparency's
signed tree heads are checked. The key is 32 random bytes, base64 in the
environment (production) or in MOLAR_HOME/audit_signing_key (the demo)."""

import base64
import binascii
import datetime
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DOMAIN = b"molar-audit-checkpoint-v1\n"
KEY_FILE = "audit_signing_key"


@dataclass(frozen=True)
class SignedHead:
    size: int
    root: str
    time: str  # ISO 8601, UTC
    key_id: str
    signature: str  # base64

    def message(self) -> bytes:
        body = json.dumps(
            {"size": self.size, "root": self.root, "time": self.time}, sort_keys=True, separators=(",", ":")
        )
        return DOMAIN + body.encode()

    def as_json(self) -> str:
        return json.dumps(
            {
                "size": self.size,
                "root": self.root,
                "time": self.time,
                "key_id": self.key_id,
                "signature": self.signature,
            },
            separators=(",", ":"),
        )


def _demo_key_file() -> Path:
    """Created once, readable only by its owner (like the demo's SECRET_KEY)."""
    path = Path(settings.MOLAR_HOME) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(secrets.token_bytes(32)).decode())  # 256 bits
    return path


@cache
def _private_key(configured: str) -> Ed25519PrivateKey:
    text = configured or _demo_key_file().read_text().strip()
    try:
        seed = base64.b64decode(text, validate=True)
    except binascii.Error:
        seed = b""
    if len(seed) != 32:
        raise ImproperlyConfigured(
            "AUDIT_SIGNING_KEY must be 32 bytes in base64 (make one with: openssl rand -base64 32)."
        )
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_key() -> Ed25519PrivateKey:
    return _private_key(settings.AUDIT_SIGNING_KEY)


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign_head(*, size: int, root: str, time: datetime.datetime) -> SignedHead:
    key = private_key()
    unsigned = SignedHead(
        size, root, time.astimezone(datetime.UTC).isoformat(timespec="seconds"), key_id(key.public_key()), ""
    )
    signature = base64.b64encode(key.sign(unsigned.message())).decode()
    return SignedHead(unsigned.size, unsigned.root, unsigned.time, unsigned.key_id, signature)


def signature_ok(head: SignedHead) -> bool:
    public = private_key().public_key()
    if head.key_id != key_id(public):
        return False
    try:
        public.verify(base64.b64decode(head.signature, validate=True), head.message())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def parse_head(line: str) -> SignedHead:
    """An exported checkpoint line; ValueError saying what is wrong."""
    try:
        data = json.loads(line)
        head = SignedHead(
            int(data["size"]),
            str(data["root"]),
            str(data["time"]),
            str(data["key_id"]),
            str(data["signature"]),
        )
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise ValueError("not a checkpoint line from `molar audit checkpoint`") from None
    if head.size < 0 or len(head.root) != 64:
        raise ValueError("not a checkpoint line from `molar audit checkpoint`")
    return head
