"""Recovery codes (SPEC K2): ten per person, single use, shown once, stored
hashed with the password hasher (computed outside any transaction, SPEC Q2).

A code is 10 characters from a 32-symbol alphabet without look-alikes
(50 bits), written XXXXX-XXXXX; typing it in lower case or without the dash
works too."""

import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.utils.crypto import salted_hmac

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, no 0/O, 1/I/L
COUNT = 10
LENGTH = 10


def recovery_normalize(code: str) -> str:
    return "".join(c for c in (code or "").upper() if c in ALPHABET)[:40]


def recovery_lookup(code: str) -> str:
    return salted_hmac("molar.factors.recovery", recovery_normalize(code)).hexdigest()[:4]


def recovery_new_codes() -> list[tuple[str, str, str]]:
    """(shown code, lookup, hash) for ten new codes."""
    made = []
    for _ in range(COUNT):
        raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        made.append((f"{raw[:5]}-{raw[5:]}", recovery_lookup(raw), make_password(raw)))
    return made


def recovery_matches(code: str, hashed: str) -> bool:
    return check_password(recovery_normalize(code), hashed)
