"""SPEC I4, exactly once, against a real mail server (issue 4, item 7).

Django's SMTP backend talks to an aiosmtpd server on a free port of
127.0.0.1, in this process. The outage test runs the sender in-process under a
controlled clock; the two-worker and crash tests start real `molar` processes
on PostgreSQL (they need a database another process can open), pointed at the
same server and at pytest-django's test database, with the suite's fast
hasher."""

import asyncio
import datetime
import email
import email.policy
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from molar.access.activation import activation_find
from molar.access.models import PortalAccount
from molar.invites.delivery import LEASE, invites_recover, invites_scan
from molar.invites.models import Invite
from molar.patients.models import Appointment, Patient

from .conftest import NOW

HOST = "127.0.0.1"
# `molar ARGS...` with the suite's fast hasher (see `fast_hasher` in
# tests/conftest.py): Argon2id would be half of each invite's time here.
MOLAR = (
    "import sys\n"
    "from django.conf import settings\n"
    "from molar.cli import main\n"
    "settings.PASSWORD_HASHERS = ['django.contrib.auth.hashers.MD5PasswordHasher']\n"
    "sys.argv[0] = 'molar'\n"
    "main()\n"
)
PROJECT = Path(__file__).resolve().parents[2]
PROCESS_SECONDS = 300
INTERRUPTED = "interrupted while sending; delivery unknown"
ACTIVATION = re.compile(r"/activate/([^/\s]+)/")
DAY, MINUTE = datetime.timedelta(days=1), datetime.timedelta(minutes=1)


@dataclass(frozen=True)
class Mail:
    to: str
    body: str


class Inbox:
    """aiosmtpd handler: keeps every message it accepted. It can answer
    "451 try later" to the next few messages, answer the next message only
    after `answer_late` seconds, hang up after each message, and call
    `on_message(count)` while the sender still waits for the answer to DATA."""

    def __init__(self):
        self._lock = threading.Lock()
        self._envelopes = []
        self.refuse_next = 0
        self.refused = 0
        self.answer_late = 0.0
        self.hang_up = False
        self.on_message = None

    async def handle_DATA(self, server, session, envelope):  # the name aiosmtpd calls
        with self._lock:
            if self.refuse_next:
                self.refuse_next -= 1
                self.refused += 1
                return "451 4.3.0 Try again later"
            self._envelopes.append(envelope)
            count = len(self._envelopes)
            late, self.answer_late = self.answer_late, 0.0
        if self.on_message:
            self.on_message(count)
        await asyncio.sleep(late)
        if self.hang_up:  # right after the reply below is written
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 Message accepted for delivery"

    def mails(self) -> list[Mail]:
        # A method, not a property: aiosmtpd runs inspect.getmembers() on the
        # handler for every connection, which would parse every mail each time.
        with self._lock:
            envelopes = list(self._envelopes)
        mails = []
        for envelope in envelopes:
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            [to] = envelope.rcpt_tos
            mails.append(Mail(to.lower(), message.get_body(("plain",)).get_content()))
        return mails


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class MailServer:
    """A port chosen up front, so the server can start "down" and come up later."""

    def __init__(self):
        self.port = _free_port()
        self.inbox = Inbox()
        self._controller = None

    def up(self) -> None:
        self._controller = Controller(self.inbox, hostname=HOST, port=self.port)
        self._controller.start()

    def down(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def mail_server(email_in_memory, settings):
    """Django's SMTP backend pointed at the server (which starts down)."""
    server = MailServer()
    mail_log = logging.getLogger("mail.log")  # aiosmtpd narrates every SMTP command
    level = mail_log.level
    mail_log.setLevel(logging.WARNING)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = HOST, server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.down()
    mail_log.setLevel(level)


def patient_fields(number: int) -> dict:
    """Every P3 field filled; a distinct email each."""
    return dict(
        first_name="Maria",
        last_name=f"Lopez{number}",
        address1="12 Harbor Lane",
        city="Portland",
        state="ME",
        zip="04101",
        birth_date=datetime.date(1984, 3, 12),
        wireless_phone="207-555-0101",
        email=f"patient{number}@example.test",
    )


def due_invites(count: int) -> set[str]:
    """`count` patients with an appointment in two days, scanned into queued
    invites under the enabled "before" rule; returns their addresses."""
    patients = Patient.objects.bulk_create([Patient(**patient_fields(n)) for n in range(count)])
    start = timezone.now() + 2 * DAY
    Appointment.objects.bulk_create([Appointment(patient=p, start=start) for p in patients])
    assert invites_scan() == count
    return {p.email for p in patients}


def send_due(moment: datetime.datetime) -> str:
    """`molar invites run` at `moment`: scan, recover, send what is due."""
    out = StringIO()
    with time_machine.travel(moment, tick=False):
        call_command("invites", "run", stdout=out)
    return out.getvalue()


def attempts() -> list[int]:
    return list(Invite.objects.order_by("id").values_list("attempts", flat=True))


def test_mail_server_down_at_first_then_each_invite_arrives_exactly_once(
    mail_server, before_rule, appointment_in, make_patient
):
    singles = [make_patient(first_name=name) for name in ("Ana", "Ben", "Cleo")]
    family = [make_patient(first_name=name, email="family@example.test") for name in ("Dora", "Eli")]
    for patient in [*singles, *family]:
        appointment_in(2 * DAY, patient=patient)
    recipients = {p.email for p in singles} | {"family@example.test"}

    assert "retrying 5" in send_due(NOW)  # nothing listens on the port
    assert attempts() == [1] * 5
    # Backoff 1, 5, 15 minutes: nothing is tried before its time.
    assert "sent 0 in 0 email(s), skipped 0, retrying 0" in send_due(NOW + 59 * MINUTE / 60)
    send_due(NOW + MINUTE)  # still down
    assert attempts() == [2] * 5

    mail_server.up()
    mail_server.inbox.refuse_next = len(recipients)  # up, but "451 try again later"
    send_due(NOW + 6 * MINUTE)
    assert mail_server.inbox.refused == 4 and mail_server.inbox.mails() == []
    assert attempts() == [3] * 5 and set(Invite.objects.values_list("status", flat=True)) == {"queued"}

    assert "sent 5 in 4 email(s)" in send_due(NOW + 21 * MINUTE)
    assert "sent 0 in 0 email(s)" in send_due(NOW + 2 * 60 * MINUTE)

    mails = mail_server.inbox.mails()
    assert Counter(mail.to for mail in mails) == dict.fromkeys(recipients, 1)
    assert attempts() == [4] * 5 and set(Invite.objects.values_list("status", flat=True)) == {"sent"}
    # Each try issued new credentials; the one email that arrived carries the
    # ones that work, one block per family member.
    family_mail = next(mail for mail in mails if mail.to == "family@example.test")
    for patient in family:
        assert PortalAccount.objects.get(patient=patient).username in family_mail.body
    with time_machine.travel(NOW + 21 * MINUTE, tick=False):
        tokens = [token for mail in mails for token in ACTIVATION.findall(mail.body)]
        assert len(tokens) == 5 and all(activation_find(token) for token in tokens)


def test_reply_to_data_lost_in_a_timeout_is_not_sent_again(
    mail_server, before_rule, appointment_in, settings
):
    # The server has the whole message but its "250" comes after the client
    # gave up: delivery is unknown, as after a crash mid-send (SPEC I4).
    settings.EMAIL_TIMEOUT = 0.5
    mail_server.up()
    mail_server.inbox.answer_late = 1.5
    appointment_in(2 * DAY)

    send_due(NOW)
    send_due(NOW + 60 * MINUTE)

    assert len(mail_server.inbox.mails()) == 1
    invite = Invite.objects.get()
    assert invite.status == "failed" and invite.reason.startswith("delivery unknown")


def test_mail_server_that_hangs_up_after_each_message_gets_every_invite_once(
    mail_server, before_rule, appointment_in, make_patient
):
    # A connection kept open from the previous email would fail at MAIL FROM
    # and count as "delivery unknown" although nothing went out.
    mail_server.up()
    mail_server.inbox.hang_up = True
    patients = [make_patient(first_name=name) for name in ("Ana", "Ben", "Cleo")]
    for patient in patients:
        appointment_in(2 * DAY, patient=patient)

    assert "sent 3 in 3 email(s)" in send_due(NOW)

    assert Counter(mail.to for mail in mail_server.inbox.mails()) == {p.email: 1 for p in patients}


def database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or HOST}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def start_molar(mail_server, settings, tmp_path):
    """Start `molar ARGS...` on the test database and the test mail server;
    returns the process (output in tmp_path). Stopped at the end whatever happens."""
    started = []
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TZ") if name in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="molar.settings",
        MOLAR_HOME=str(tmp_path),
        SECRET_KEY=settings.SECRET_KEY,
        DATABASE_URL=database_url(),
        LOG_LEVEL="WARNING",
        EMAIL_HOST=HOST,
        EMAIL_PORT=str(mail_server.port),
        PYTHONUNBUFFERED="1",
    )

    def start(*args: str) -> subprocess.Popen:
        number = len(started)
        with open(tmp_path / f"{number}.out", "w") as out, open(tmp_path / f"{number}.err", "w") as err:
            process = subprocess.Popen(
                [sys.executable, "-c", MOLAR, *args],
                cwd=PROJECT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        process.number = number
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def finished(process: subprocess.Popen, tmp_path: Path) -> str:
    """Wait for a `molar` process that must succeed; its standard output."""
    process.wait(timeout=PROCESS_SECONDS)
    errors = (tmp_path / f"{process.number}.err").read_text()
    assert process.returncode == 0, errors[-2000:]
    return (tmp_path / f"{process.number}.out").read_text()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_send_a_thousand_due_invites_exactly_once(
    mail_server, before_rule, start_molar, tmp_path
):
    mail_server.up()
    addresses = due_invites(1000)

    workers = [start_molar("invites", "run") for _ in range(2)]
    outputs = [finished(worker, tmp_path) for worker in workers]

    mails = mail_server.inbox.mails()
    assert len(mails) == 1000
    assert {mail.to for mail in mails} == addresses  # 1,000 distinct recipients
    assert Invite.objects.filter(status="sent").count() == 1000
    assert set(attempts()) == {1}
    sent = [int(re.search(r"sent (\d+) in", output).group(1)) for output in outputs]
    assert sum(sent) == 1000, outputs
    claimed_by = Counter(Invite.objects.values_list("claimed_by", flat=True))
    assert len(claimed_by) == 2, claimed_by  # both workers did part of the work


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_send_the_next_sends_the_rest_none_twice(
    mail_server, before_rule, start_molar, tmp_path
):
    mail_server.up()
    addresses = due_invites(300)
    killed = []

    def kill_at_60th(count: int) -> None:
        # The worker waits for the answer to DATA of its 60th email (10 into
        # its second batch of 50): the server has the message, the worker
        # never learns it.
        if count == 60 and not killed:
            os.kill(worker.pid, signal.SIGKILL)
            killed.append(count)

    mail_server.inbox.on_message = kill_at_60th
    worker = start_molar("worker", "--scan-every", "3600", "--idle-sleep", "1")
    worker.wait(timeout=PROCESS_SECONDS)
    assert worker.returncode == -signal.SIGKILL and killed

    [in_flight] = Invite.objects.filter(status="sending")
    assert in_flight.recipient == mail_server.inbox.mails()[-1].to
    assert Invite.objects.filter(status="sent").count() == 59
    assert invites_recover(now=timezone.now() + LEASE + MINUTE) == 1  # after the lease
    output = finished(start_molar("invites", "run"), tmp_path)
    assert "sent 240 in 240 email(s)" in output

    mails = mail_server.inbox.mails()
    received = Counter(mail.to for mail in mails)
    assert received.most_common(1)[0][1] == 1  # nobody got two
    assert set(received) == addresses
    statuses = Counter(Invite.objects.values_list("status", flat=True))
    assert statuses == {"sent": 299, "failed": 1}
    in_flight.refresh_from_db()
    assert in_flight.status == "failed" and in_flight.reason == INTERRUPTED
    assert len(mails) == statuses["sent"] + 1  # the interrupted one did get through
