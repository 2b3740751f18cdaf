"""The notice that the practice answered (SPEC L7: "email notices carry no
health information"). It names the practice and the portal address and
nothing else: not the patient, not the subject line, not a word of the
message, since email travels and is read where the portal cannot protect it."""

from django.utils.translation import gettext as _
from django.utils.translation import override

from molar.practice.models import PracticeSettings

from .models import Message, Thread


def notice_address(thread: Thread) -> str:
    """The thread's patient's email; if they have none (a child, say), the
    representative who wrote in the thread last."""
    if thread.patient.email:
        return thread.patient.email
    last = (
        thread.messages.filter(author_kind=Message.AuthorKind.REPRESENTATIVE)
        .select_related("author_patient")
        .order_by("-sent_at", "-id")
        .first()
    )
    return last.author_patient.email if last and last.author_patient else ""


def new_message_email(practice: PracticeSettings, language: str) -> tuple[str, str]:
    """(subject, body) of the notice, for the outbox (SPEC Q2), in `language` (SPEC V10)."""
    with override(language):
        name = practice.practice_name or _("your dental practice")
        if practice.patient_facing_url:
            body = _("You have a new message from %(name)s. Sign in to read it: %(url)s") % {
                "name": name,
                "url": practice.patient_facing_url,
            }
        else:
            body = _("You have a new message from %(name)s. Sign in to read it at the patient portal.") % {
                "name": name
            }
        return _("New message from %(name)s") % {"name": name}, f"{body}\n"
