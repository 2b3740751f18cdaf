"""One function per email: each returns (subject, body) for the outbox (SPEC
Q2). No health information in any of them (SPEC L7)."""

from molar.outbox.models import RESET_CODE_SLOT
from molar.practice.models import PracticeSettings


def reset_code_email(practice: PracticeSettings) -> tuple[str, str]:
    """The code is put in place of RESET_CODE_SLOT by the outbox when it
    sends the email: it is made then, and never stored (SPEC L3, C4)."""
    name = practice.practice_name or "your dental practice"
    body = (
        f"Someone asked to reset the password of your {name} patient portal account.\n\n"
        f"Your reset code: {RESET_CODE_SLOT}\n\n"
        "Enter it on the Reset Password page within 24 hours. It works once.\n"
        "If you did not ask for this, ignore this email: your password has not changed.\n"
    )
    return f"{name}: password reset code", body


def password_changed_email(practice: PracticeSettings) -> tuple[str, str]:
    name = practice.practice_name or "your dental practice"
    phone = f" at {practice.practice_phone}" if practice.practice_phone else ""
    body = (
        f"The password of your {name} patient portal account was just reset.\n\n"
        f"If this was not you, call the practice{phone} right away.\n"
    )
    return f"{name}: your portal password was changed", body
