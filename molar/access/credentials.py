"""Generating portal credentials (SPEC U1, C1). Security-sensitive: keep small."""

import secrets
import unicodedata

# SPEC C1: no look-alikes (0/O/o, 1/l/I).
UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # 24
LOWER = "abcdefghijkmnpqrstuvwxyz"  # 24
DIGITS = "23456789"  # 8
ALPHABET = UPPER + LOWER + DIGITS  # 56 symbols
PASSWORD_LENGTH = 8
# 56**8 = 9.7e13 strings (46.4 bits); requiring one of each class keeps ~78%
# of them (45.9 bits), which is what an online guesser faces behind the
# lockout (SPEC L6) and what an offline guesser faces behind Argon2id.

USERNAME_MIN_NUMBER = 100
USERNAME_MAX_NUMBER = 99_999
USERNAME_FALLBACK = "Patient"
USERNAME_STEM_MAX = 59  # + up to 5 digits = 64


def generate_password() -> str:
    """8 characters from the OS's CSPRNG with an upper, a lower and a digit.

    Rejection sampling (draw again until all three classes appear) keeps every
    acceptable password equally likely."""
    while True:
        candidate = "".join(secrets.choice(ALPHABET) for _ in range(PASSWORD_LENGTH))
        if (
            any(c in UPPER for c in candidate)
            and any(c in LOWER for c in candidate)
            and any(c in DIGITS for c in candidate)
        ):
            return candidate


def username_stem(first_name: str) -> str:
    """The first name without spaces, punctuation, symbols or control characters;
    letters (accents included, as written) and digits stay."""
    text = unicodedata.normalize("NFC", first_name or "")
    kept = "".join(c for c in text if unicodedata.category(c)[0] in ("L", "M", "N"))
    # Room for the number within the 64-character username, also once case
    # folding has lengthened it (e.g. "ß" folds to "ss").
    while len(fold_username(kept)) > USERNAME_STEM_MAX:
        kept = kept[:-1]
    return kept or USERNAME_FALLBACK


def username_candidate(first_name: str) -> str:
    """SPEC U1: stem + a random whole number from 100 to 99,999."""
    span = USERNAME_MAX_NUMBER - USERNAME_MIN_NUMBER + 1
    return f"{username_stem(first_name)}{USERNAME_MIN_NUMBER + secrets.randbelow(span)}"


# Kana voicing marks are combining characters too, but "が" and "か" are
# different syllables, not an accent on one: they stay.
_KEPT_MARKS = {"\u3099", "\u309a"}


def fold_username(username: str) -> str:
    """The form usernames are compared and made unique in (SPEC V7, U1):
    compatibility decomposition, combining marks (accents) dropped, Unicode
    case folding, recomposed. 'Sofía35324' signs in as 'sofia35324' and
    'STRAUSS' is 'Strauß'. The one function for sign-in, renames, generated
    names and imports; usernames are still shown as written."""
    text = unicodedata.normalize("NFKD", username).casefold()
    text = unicodedata.normalize("NFKD", text)  # folding can make new decomposable letters
    text = "".join(c for c in text if not unicodedata.combining(c) or c in _KEPT_MARKS)
    return unicodedata.normalize("NFC", text)


# SPEC L3: reset codes are typed from an email, so: capitals and digits
# without look-alikes, 10 of them from a 32-symbol alphabet = 50 bits,
# shown as two groups of five. Ten wrong tries void the code.
RESET_ALPHABET = UPPER + DIGITS  # 32 symbols


def generate_reset_code() -> str:
    code = "".join(secrets.choice(RESET_ALPHABET) for _ in range(10))
    return f"{code[:5]}-{code[5:]}"


def normalize_reset_code(typed: str) -> str:
    """What the patient typed, in the form the code was hashed in."""
    cleaned = "".join(c for c in (typed or "").upper() if c.isalnum())[:10]
    return f"{cleaned[:5]}-{cleaned[5:]}"
