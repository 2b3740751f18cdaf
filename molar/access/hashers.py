"""Password hashing (SPEC C4).

Argon2id with m=32 MiB, t=2, p=1: above OWASP's minimum (m=19 MiB, t=2, p=1);
the verify time on our 2-core reference machine is in the README. More memory
would slow every sign-in and the equal-time path for unknown users, and the
online guesser is already stopped by the lockout (SPEC L6). Django's default
Argon2 hasher uses p=8, which on a 2-core server buys nothing but contention;
one lane keeps the cost on memory, where a GPU attacker pays."""

import base64
import hashlib
from typing import Any

from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    BasePasswordHasher,
    mask_hash,
)
from django.utils.crypto import constant_time_compare


class MolarArgon2Hasher(Argon2PasswordHasher):
    algorithm = "argon2"  # same format as Django's, so its verifier reads ours
    time_cost = 2
    memory_cost = 32768  # KiB
    parallelism = 1


class OpenDentalHasher(BasePasswordHasher):
    """What every Open Dental format shares (SPEC C5): verify only, and a
    successful sign-in always re-hashes the password with Argon2id."""

    def safe_summary(self, encoded: str) -> dict[Any, str]:
        return {"algorithm": str(self.algorithm), "hash": mask_hash(self.decode(encoded)["hash"])}

    def must_update(self, encoded: str) -> bool:
        return True

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass


class OpenDentalSHA3Hasher(OpenDentalHasher):
    """Verifies accounts imported from Open Dental (SPEC C5):
    `SHA3_512$<salt>$<base64 SHA3-512 of UTF-16LE(salt + password)>`.

    Never used to make new hashes: a successful sign-in re-hashes the password
    with Argon2id (Django calls the setter because this is not the first hasher)."""

    algorithm = "SHA3_512"

    def _digest(self, password: str, salt: str) -> str:
        raw = hashlib.sha3_512((salt + password).encode("utf-16-le")).digest()
        return base64.b64encode(raw).decode("ascii")

    def encode(self, password: str, salt: str) -> str:
        return f"{self.algorithm}${salt}${self._digest(password, salt)}"

    def decode(self, encoded: str) -> dict[str, str]:
        algorithm, salt, digest = encoded.split("$", 2)
        return {"algorithm": algorithm, "salt": salt, "hash": digest}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return constant_time_compare(self._digest(password, decoded["salt"]), decoded["hash"])

    def safe_summary(self, encoded: str) -> dict[Any, str]:
        return {"algorithm": self.algorithm, "salt": mask_hash(self.decode(encoded)["salt"])}


class OpenDentalMD5Hasher(OpenDentalHasher):
    """Open Dental's oldest format: base64 of MD5 of UTF-16LE(password), no salt.
    Stored on import as `od_md5$<base64>` so Django can tell which hasher it is."""

    algorithm = "od_md5"

    def _digest(self, password: str) -> str:
        raw = hashlib.md5(password.encode("utf-16-le"), usedforsecurity=False).digest()
        return base64.b64encode(raw).decode("ascii")

    def encode(self, password: str, salt: str = "") -> str:
        return f"{self.algorithm}${self._digest(password)}"

    def decode(self, encoded: str) -> dict[str, str]:
        algorithm, digest = encoded.split("$", 1)
        return {"algorithm": algorithm, "hash": digest, "salt": ""}

    def verify(self, password: str, encoded: str) -> bool:
        return constant_time_compare(self._digest(password), self.decode(encoded)["hash"])


class OpenDentalMD5EcwHasher(OpenDentalHasher):
    """Open Dental's eClinicalWorks bridge: `MD5_ECW$$<lowercase hex MD5 of the
    ASCII password>`, kept as written. Verify only; re-hashed at sign-in."""

    algorithm = "MD5_ECW"

    def _digest(self, password: str) -> str:
        return hashlib.md5(password.encode("ascii", "replace"), usedforsecurity=False).hexdigest()

    def encode(self, password: str, salt: str = "") -> str:
        return f"{self.algorithm}$${self._digest(password)}"

    def decode(self, encoded: str) -> dict[str, str]:
        algorithm, _, digest = encoded.split("$", 2)
        return {"algorithm": algorithm, "hash": digest, "salt": ""}

    def verify(self, password: str, encoded: str) -> bool:
        return constant_time_compare(self._digest(password), self.decode(encoded)["hash"].lower())
