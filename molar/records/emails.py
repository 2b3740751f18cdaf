"""SPEC L7 transmit: the health summary to an address the patient typed. The
patient chose the addressee, so the PDF may go as an attachment; the subject
and body stay generic (no name, no health information), since mail servers
and previews show them."""

from django.utils.translation import gettext as _

from molar.practice.models import PracticeSettings

SUMMARY_FILENAME = "health-summary.pdf"


def health_summary_email(practice: PracticeSettings) -> tuple[str, str]:
    """(subject, body) for the outbox (SPEC Q2); the PDF is attached there."""
    name = practice.practice_name or _("your dental practice")
    if practice.practice_phone:
        call = _("Questions? Call the practice at %(phone)s.") % {"phone": practice.practice_phone}
    else:
        call = _("Questions? Call the practice.")
    body = _(
        "A patient portal user of %(name)s asked us to send the attached document to this address.\n\n"
        "If you did not expect it, please delete this email."
    ) % {"name": name}
    return _("A document from %(name)s") % {"name": name}, f"{body}\n{call}\n"
