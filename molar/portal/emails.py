"""One function per email. No health information in any of them (SPEC L7)."""

from django.core.mail import send_mail

from molar.access.models import PortalAccount
from molar.practice.models import PracticeSettings


def _practice() -> PracticeSettings:
    return PracticeSettings.load()


def send_reset_code(account: PortalAccount, code: str) -> None:
    practice = _practice()
    name = practice.practice_name or "your dental practice"
    body = (
        f"Someone asked to reset the password of your {name} patient portal account.\n\n"
        f"Your reset code: {code}\n\n"
        "Enter it on the Reset Password page within 24 hours. It works once.\n"
        "If you did not ask for this, ignore this email: your password has not changed.\n"
    )
    send_mail(f"{name}: password reset code", body, None, [account.patient.email])


def send_password_changed(account: PortalAccount) -> None:
    practice = _practice()
    name = practice.practice_name or "your dental practice"
    phone = f" at {practice.practice_phone}" if practice.practice_phone else ""
    body = (
        f"The password of your {name} patient portal account was just reset.\n\n"
        f"If this was not you, call the practice{phone} right away.\n"
    )
    send_mail(f"{name}: your portal password was changed", body, None, [account.patient.email])
