"""SPEC C3, K4: the password policy. Messages name the rule that failed.

Every password is NFKC-normalized (`normalize_password`) before it is
checked or hashed, at sign-in as when it is set: "é" typed as one character
or as "e" + a combining accent is the same password (SPEC K4)."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _  # SPEC V10: patients read these

from .blocklist import is_common, is_practice_name

MAX_LENGTH = 128
SEED_MIN_LENGTH = 8
LENGTH_MIN_LENGTH = 15
# A name shorter than this is not searched for inside passwords: "Al" or "Bo"
# would refuse a large share of good passwords for no real gain.
MIN_NAME_LENGTH_CHECKED = 3


def normalize_password(password: str | None) -> str:
    return unicodedata.normalize("NFKC", password or "")


def password_problems(
    password: str,
    *,
    profile: str = "seed",
    username: str = "",
    first_name: str = "",
    practice_name: str = "",
) -> list[str]:
    """Every rule the password breaks, in a fixed order; empty when acceptable."""
    password = normalize_password(password)
    if len(password) > MAX_LENGTH:
        return [_("Password must be at most %(count)d characters.") % {"count": MAX_LENGTH}]
    problems = []
    minimum = LENGTH_MIN_LENGTH if profile == "length" else SEED_MIN_LENGTH
    if len(password) < minimum:
        problems.append(_("Password must be at least %(count)d characters.") % {"count": minimum})
    if profile != "length":
        if not any(c.isupper() for c in password):
            problems.append(_("Password must contain an uppercase letter."))
        if not any(c.islower() for c in password):
            problems.append(_("Password must contain a lowercase letter."))
        if not any(c.isdigit() for c in password):
            problems.append(_("Password must contain a digit."))
    folded = password.casefold()
    if is_common(password):
        problems.append(_("Password is too common. Choose one that is harder to guess."))
    elif practice_name and is_practice_name(password, practice_name):
        problems.append(_("Password must not be made from the practice's name."))
    if len(username) >= MIN_NAME_LENGTH_CHECKED and username.casefold() in folded:
        problems.append(_("Password must not contain the username."))
    if len(first_name) >= MIN_NAME_LENGTH_CHECKED and first_name.casefold() in folded:
        problems.append(_("Password must not contain the patient's first name."))
    return problems


class BlocklistValidator:
    """SPEC K4 for staff passwords (AUTH_PASSWORD_VALIDATORS): the same
    blocklist, variants and practice-name words as patients' passwords."""

    def validate(self, password: str, user: object = None) -> None:
        from molar.practice.models import PracticeSettings

        password = normalize_password(password)
        if is_common(password):
            raise ValidationError(
                "Password is too common. Choose one that is harder to guess.", code="password_too_common"
            )
        if is_practice_name(password, PracticeSettings.cached().practice_name):
            raise ValidationError(
                "Password must not be made from the practice's name.", code="password_practice_name"
            )

    def get_help_text(self) -> str:
        return "Your password can't be a common password or a variant of one."
