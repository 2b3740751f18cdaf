"""SPEC L7 transmit: the health summary to an address the patient typed. The
patient chose the addressee, so the PDF may go as an attachment; the subject
and body stay generic (no name, no health information), since mail servers
and previews show them."""

import logging
import smtplib

from django.core.mail import EmailMessage

from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record
from molar.practice.models import PracticeSettings

logger = logging.getLogger(__name__)


def send_health_summary(*, practice: PracticeSettings, to: str, pdf: bytes, patient_id: int) -> bool:
    """True when the mail server took the message; a failure is logged and
    audited without the address."""
    name = practice.practice_name or "your dental practice"
    phone = f" at {practice.practice_phone}" if practice.practice_phone else ""
    body = (
        f"A patient portal user of {name} asked us to send the attached document to this address.\n\n"
        "If you did not expect it, please delete this email.\n"
        f"Questions? Call the practice{phone}.\n"
    )
    message = EmailMessage(f"A document from {name}", body, None, [to])
    message.attach("health-summary.pdf", pdf, "application/pdf")
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("Could not send a health summary for patient %s: %s", patient_id,
                       type(exc).__name__)
        audit_record(action="email_failed", actor=Actor.system("mail"), patient_id=patient_id,
                     outcome=AuditEvent.Outcome.FAILURE,
                     detail={"email": "health summary", "error": type(exc).__name__})
        return False
    return True
