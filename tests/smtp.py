"""A real SMTP server for tests (aiosmtpd, on a free port of 127.0.0.1), and
the `smtp` fixture that points Django's SMTP backend at it. Registered in
tests/conftest.py, so any test can ask for `smtp` and read `smtp.mails`.

Email leaves through the outbox (SPEC Q2): an action only queues it, and
`send_outbox()` (also the `send_outbox` fixture) is the worker's send pass
that delivers it, so tests never wait for a worker."""

import asyncio
import email
import email.policy
import logging
import socket
import threading
import time
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller

from molar.outbox.sending import SendSummary
from molar.outbox.services import outbox_send_due


def send_outbox(**kwargs) -> SendSummary:
    """One worker pass over the email outbox: what the actions so far queued
    goes out now (to `smtp`, or to `mailoutbox` with the in-memory backend)."""
    return outbox_send_due(worker="test", **kwargs)


@dataclass(frozen=True)
class Mail:
    to: list[str]
    subject: str
    body: str
    attachments: list[tuple[str, str, bytes]]  # (filename, content type, content)


class Inbox:
    """aiosmtpd handler: keeps every message the server accepted. Tests may
    make it refuse recipients (`refuse_rcpt[address] = "550 ..."`), answer the
    next messages with `data_replies` ("451 ..."), or answer late
    (`answer_late` seconds, after it kept the message)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._envelopes = []
        self.refuse_rcpt: dict[str, str] = {}
        self.data_replies: list[str] = []
        self.answer_late = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # aiosmtpd's name
        refusal = self.refuse_rcpt.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # the name aiosmtpd calls
        with self._lock:
            if self.data_replies:
                return self.data_replies.pop(0)
            self._envelopes.append(envelope)
            late, self.answer_late = self.answer_late, 0.0
        await asyncio.sleep(late)
        return "250 Message accepted for delivery"

    @property
    def mails(self) -> list[Mail]:
        with self._lock:
            envelopes = list(self._envelopes)
        mails = []
        for envelope in envelopes:
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            attachments = [
                (part.get_filename(), part.get_content_type(), part.get_content())
                for part in message.iter_attachments()
            ]
            mails.append(
                Mail(
                    list(envelope.rcpt_tos),
                    str(message["Subject"]),
                    message.get_body(("plain",)).get_content(),
                    attachments,
                )
            )
        return mails

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Mail]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = self.mails
            if len(mails) >= count:
                return mails
            time.sleep(0.05)
        raise AssertionError(f"expected {count} mail(s) within {timeout}s, got {len(self.mails)}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(email_in_memory, settings):
    """A real SMTP server, and Django's SMTP backend pointed at it (after the
    suite's autouse locmem backend, which this overrides)."""
    inbox = Inbox()
    mail_log = logging.getLogger("mail.log")  # aiosmtpd narrates every SMTP command
    level = mail_log.level
    mail_log.setLevel(logging.WARNING)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    yield inbox
    controller.stop()
    mail_log.setLevel(level)
