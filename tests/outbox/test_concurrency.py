"""SPEC Q2 + I4 under real concurrency: several workers (threads, each with
its own PostgreSQL connection, running the real loop) drain one outbox, and
every email goes out exactly once; each reset code that arrives works."""

import re
import threading
import time
from collections import Counter

import pytest
from django.contrib.auth.hashers import check_password
from django.db import transaction

from molar.access.models import PortalAccount
from molar.access.services import access_provide
from molar.audit.services import Actor
from molar.outbox.models import OutboxEmail
from molar.outbox.services import outbox_enqueue
from molar.portal.services import portal_reset_request
from tests.worker import RunningWorker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CODE = re.compile(r"\b[A-Z2-9]{5}-[A-Z2-9]{5}\b")
NOTICES, RESETS, WORKERS = 50, 10, 3


def wait_until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def unfinished() -> int:
    return OutboxEmail.objects.filter(status__in=["queued", "sending"]).count()


def test_several_workers_send_each_email_exactly_once(smtp, practice, make_patient):
    for n in range(NOTICES):
        with transaction.atomic():
            outbox_enqueue(
                kind="new_message",
                to=f"notice{n}@example.test",
                subject="New message from Harbor",
                body="Sign in to read it.",
            )
    resetting = [make_patient(first_name="Reset", email=f"reset{n}@example.test") for n in range(RESETS)]
    for patient in resetting:
        portal_reset_request(username=access_provide(patient=patient, actor=Actor.system("test")).username)
    start = threading.Barrier(WORKERS + 1)
    workers = [RunningWorker(batch=5, on_start=start.wait) for _ in range(WORKERS)]

    for worker in workers:
        worker.__enter__()
    try:
        start.wait()
        wait_until(lambda: unfinished() == 0)
    finally:
        for worker in workers:
            worker.__exit__(None, None, None)

    mails = smtp.mails
    assert len(mails) == NOTICES + RESETS
    assert Counter(address for mail in mails for address in mail.to).most_common(1)[0][1] == 1
    assert Counter(OutboxEmail.objects.values_list("status", "attempts")) == {("sent", 1): NOTICES + RESETS}
    for patient in resetting:
        [mail] = [m for m in mails if m.to == [patient.email]]
        code = CODE.search(mail.body).group()
        assert check_password(code, PortalAccount.objects.get(patient=patient).reset_code_hash)
    claimed_by = Counter(OutboxEmail.objects.values_list("claimed_by", flat=True))
    assert len(claimed_by) >= 2, claimed_by  # the work was shared
