"""One function per email: each returns (subject, body) for the outbox (SPEC
Q2), in the language given (SPEC V10). No health information in any of them
(SPEC L7)."""

from django.utils.translation import gettext as _
from django.utils.translation import override

from molar.outbox.models import RESET_CODE_SLOT
from molar.practice.models import PracticeSettings


def reset_code_email(practice: PracticeSettings, language: str) -> tuple[str, str]:
    """The code is put in place of RESET_CODE_SLOT by the outbox when it
    sends the email: it is made then, and never stored (SPEC L3, C4)."""
    with override(language):
        name = practice.practice_name or _("your dental practice")
        body = _(
            "Someone asked to reset the password of your %(name)s patient portal account.\n\n"
            "Your reset code: %(code)s\n\n"
            "Enter it on the Reset Password page within 24 hours. It works once.\n"
            "If you did not ask for this, ignore this email: your password has not changed.\n"
        ) % {"name": name, "code": RESET_CODE_SLOT}
        return _("%(name)s: password reset code") % {"name": name}, body


def password_changed_email(practice: PracticeSettings, language: str) -> tuple[str, str]:
    with override(language):
        name = practice.practice_name or _("your dental practice")
        if practice.practice_phone:
            call = _("If this was not you, call the practice at %(phone)s right away.") % {
                "phone": practice.practice_phone
            }
        else:
            call = _("If this was not you, call the practice right away.")
        body = _("The password of your %(name)s patient portal account was just reset.") % {"name": name}
        return (_("%(name)s: your portal password was changed") % {"name": name}, f"{body}\n\n{call}\n")
