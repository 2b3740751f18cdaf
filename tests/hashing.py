"""A hasher that notes where it runs: SPEC Q2 wants no password hash while a
transaction (on SQLite: the database's only write lock) is open."""

from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection

CALLS: list[int] = []  # transaction depth above the test's own, per hash


def depth() -> int:
    return len(connection.atomic_blocks)


class DepthRecordingHasher(MD5PasswordHasher):
    """The suite's fast MD5 hasher (same algorithm name, so hashes made by
    either verify with the other) that records the transaction depth."""

    def encode(self, password, salt):
        CALLS.append(depth())
        return super().encode(password, salt)

    def verify(self, password, encoded):
        CALLS.append(depth())
        return super().verify(password, encoded)
