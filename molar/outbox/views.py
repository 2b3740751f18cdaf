"""The demo's outbox: without EMAIL_HOST, mail is written to files in
MOLAR_HOME/outbox (Django's file backend) by the worker, which sends what the
actions queued (SPEC Q2); administrators read it here, with the number of
emails still waiting for the worker. It holds reset codes and one-time
passwords, so front desk may not (SPEC K9). With an SMTP server configured
the page says mail goes out and shows no mail."""

import email
import email.policy
import email.utils
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render

from molar.audit.context import StaffRequest
from molar.audit.permissions import MANAGE_SETTINGS, staff_view
from molar.outbox.models import OutboxEmail

SEPARATOR = "-" * 79
MAX_FILES = 200


@dataclass(frozen=True)
class OutboxMessage:
    sent: datetime | None
    to: str
    subject: str
    body: str


def _messages(folder: Path) -> list[OutboxMessage]:
    files = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    found = []
    for path in files[:MAX_FILES]:
        # Bytes, not text: a UTF-8 body sent as 8bit must be decoded by the
        # email parser with its charset ("Sofía", not "Sof\ufffda").
        for chunk in path.read_bytes().split(SEPARATOR.encode()):
            if not chunk.strip():
                continue
            message = email.message_from_bytes(chunk.strip(), policy=email.policy.default)
            part = message.get_body(preferencelist=("plain",)) if message.is_multipart() else message
            sent = email.utils.parsedate_to_datetime(message["Date"]) if message["Date"] else None
            found.append(
                OutboxMessage(
                    sent=sent,
                    to=str(message["To"] or ""),
                    subject=str(message["Subject"] or ""),
                    body=part.get_content() if part else "",
                )
            )
    return found


@staff_view(MANAGE_SETTINGS)
def outbox(request: StaffRequest) -> HttpResponse:
    uses_files = settings.EMAIL_BACKEND.endswith("filebased.EmailBackend")
    folder = Path(settings.EMAIL_FILE_PATH)
    messages = _messages(folder) if uses_files and folder.is_dir() else []
    waiting = OutboxEmail.objects.filter(
        status__in=[OutboxEmail.Status.QUEUED, OutboxEmail.Status.SENDING]
    ).count()
    return render(
        request,
        "outbox/outbox.html",
        {"uses_files": uses_files, "mail_messages": messages, "waiting": waiting},
    )
