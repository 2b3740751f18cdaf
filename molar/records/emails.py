"""SPEC L7 transmit: the health summary to an address the patient typed. The
patient chose the addressee, so the PDF may go as an attachment; the subject
and body stay generic (no name, no health information), since mail servers
and previews show them."""

from molar.practice.models import PracticeSettings

SUMMARY_FILENAME = "health-summary.pdf"


def health_summary_email(practice: PracticeSettings) -> tuple[str, str]:
    """(subject, body) for the outbox (SPEC Q2); the PDF is attached there."""
    name = practice.practice_name or "your dental practice"
    phone = f" at {practice.practice_phone}" if practice.practice_phone else ""
    body = (
        f"A patient portal user of {name} asked us to send the attached document to this address.\n\n"
        "If you did not expect it, please delete this email.\n"
        f"Questions? Call the practice{phone}.\n"
    )
    return f"A document from {name}", body
