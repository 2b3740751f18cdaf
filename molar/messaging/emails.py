"""The notice that the practice answered (SPEC L7: "email notices carry no
health information"). It names the practice and the portal address and
nothing else: not the patient, not the subject line, not a word of the
message, since email travels and is read where the portal cannot protect it."""

import logging
import smtplib

from django.core.mail import send_mail

from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record
from molar.practice.models import PracticeSettings

from .models import Message, Thread

logger = logging.getLogger(__name__)
WHAT = "new message"


def _failed(patient_id: int, error: str) -> None:
    audit_record(action="email_failed", actor=Actor.system("mail"), patient_id=patient_id,
                 outcome=AuditEvent.Outcome.FAILURE, detail={"email": WHAT, "error": error})


def _send(patient_id: int, address: str, subject: str, body: str) -> None:
    """Send, or log and audit the failure; the staff member's page does not
    change either way (the answer is saved and the patient will see it)."""
    try:
        send_mail(subject, body, None, [address])
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("Could not send the %s email for patient %s: %s", WHAT, patient_id,
                       type(exc).__name__)
        _failed(patient_id, type(exc).__name__)


def notice_address(thread: Thread) -> str:
    """The thread's patient's email; if they have none (a child, say), the
    representative who wrote in the thread last."""
    if thread.patient.email:
        return thread.patient.email
    last = (thread.messages.filter(author_kind=Message.AuthorKind.REPRESENTATIVE)
            .select_related("author_patient").order_by("-sent_at", "-id").first())
    return last.author_patient.email if last and last.author_patient else ""


def send_new_message_notice(thread_id: int) -> None:
    thread = Thread.objects.select_related("patient").get(pk=thread_id)
    address = notice_address(thread)
    if not address:
        logger.info("No email address for the %s notice of patient %s", WHAT, thread.patient_id)
        _failed(thread.patient_id, "no email address")
        return
    practice = PracticeSettings.load()
    name = practice.practice_name or "your dental practice"
    where = f": {practice.patient_facing_url}" if practice.patient_facing_url else " at the patient portal."
    body = f"You have a new message from {name}. Sign in to read it{where}\n"
    _send(thread.patient_id, address, f"New message from {name}", body)
