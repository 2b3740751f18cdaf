"""One function per email. No health information in any of them (SPEC L7)."""

import logging
import smtplib

from django.core.mail import send_mail

from molar.access.models import PortalAccount
from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record
from molar.practice.models import PracticeSettings

logger = logging.getLogger(__name__)


def _send(account: PortalAccount, what: str, subject: str, body: str) -> None:
    """Send, or log and audit the failure. A failure must not change the page
    the patient sees (that would tell strangers which user names exist), and
    the body, which may hold a code, is never logged."""
    try:
        send_mail(subject, body, None, [account.patient.email])
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("Could not send the %s email for patient %s: %s",
                       what, account.patient_id, type(exc).__name__)
        audit_record(action="email_failed", actor=Actor.system("mail"),
                     patient_id=account.patient_id, outcome=AuditEvent.Outcome.FAILURE,
                     detail={"email": what, "error": type(exc).__name__})


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
    _send(account, "reset code", f"{name}: password reset code", body)


def send_password_changed(account: PortalAccount) -> None:
    practice = _practice()
    name = practice.practice_name or "your dental practice"
    phone = f" at {practice.practice_phone}" if practice.practice_phone else ""
    body = (
        f"The password of your {name} patient portal account was just reset.\n\n"
        f"If this was not you, call the practice{phone} right away.\n"
    )
    _send(account, "password changed", f"{name}: your portal password was changed", body)
