"""SPEC C3: the password policy. Messages name the rule that failed."""

from functools import cache

from django.contrib.auth.password_validation import CommonPasswordValidator

MAX_LENGTH = 128
SEED_MIN_LENGTH = 8
LENGTH_MIN_LENGTH = 15
# A name shorter than this is not searched for inside passwords: "Al" or "Bo"
# would refuse a large share of good passwords for no real gain.
MIN_NAME_LENGTH_CHECKED = 3


@cache
def _common_passwords() -> frozenset[str]:
    # Django's list of 20,000 common passwords, compared lowercased.
    return frozenset(CommonPasswordValidator().passwords)


def password_problems(
    password: str, *, profile: str = "seed", username: str = "", first_name: str = ""
) -> list[str]:
    """Every rule the password breaks, in a fixed order; empty when acceptable."""
    if len(password) > MAX_LENGTH:
        return [f"Password must be at most {MAX_LENGTH} characters."]
    problems = []
    minimum = LENGTH_MIN_LENGTH if profile == "length" else SEED_MIN_LENGTH
    if len(password) < minimum:
        problems.append(f"Password must be at least {minimum} characters.")
    if profile != "length":
        if not any(c.isupper() for c in password):
            problems.append("Password must contain an uppercase letter.")
        if not any(c.islower() for c in password):
            problems.append("Password must contain a lowercase letter.")
        if not any(c.isdigit() for c in password):
            problems.append("Password must contain a digit.")
    folded = password.casefold()
    if password.lower().strip() in _common_passwords():
        problems.append("Password is too common. Choose one that is harder to guess.")
    if len(username) >= MIN_NAME_LENGTH_CHECKED and username.casefold() in folded:
        problems.append("Password must not contain the username.")
    if len(first_name) >= MIN_NAME_LENGTH_CHECKED and first_name.casefold() in folded:
        problems.append("Password must not contain the patient's first name.")
    return problems
