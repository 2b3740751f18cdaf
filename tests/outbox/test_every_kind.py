"""SPEC Q2: every email that is not an invite is queued by its action and sent
by the worker, to a real SMTP server (aiosmtpd). The requests themselves
never talk SMTP: nothing arrives until the worker runs."""

import re

import pytest

from molar.access.models import PortalAccount
from molar.messaging.models import Thread
from molar.outbox.models import OutboxEmail
from tests.conftest import CsrfClient
from tests.portal.conftest import GOOD_PASSWORD, credentials, patient_client  # noqa: F401
from tests.records.conftest import health, pdf_text
from tests.worker import RunningWorker

pytestmark = pytest.mark.django_db(transaction=True)

CODE = re.compile(r"\b[A-Z2-9]{5}-[A-Z2-9]{5}\b")
NEW_PASSWORD = "Lantern-Quay-58"


def kinds_by_status() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for kind, status in OutboxEmail.objects.values_list("kind", "status"):
        found.setdefault(status, set()).add(kind)
    return found


def test_every_kind_waits_in_the_outbox_until_the_worker_sends_it(
    smtp,
    practice,
    complete_patient,
    patient_client,  # noqa: F811 (the fixture, imported above)
    credentials,  # noqa: F811
    desk_client,
):
    username = credentials[0]
    health(complete_patient)
    patient_client.submit("/portal/messages/", {"subject": "Swelling", "body": "Still swollen."})
    thread = Thread.objects.get()

    # Three actions, each queuing its email in its own transaction.
    CsrfClient().submit("/portal/forgot/", {"username": username})
    desk_client.submit(f"/staff/messages/{thread.pk}/", {"body": "Rinse with warm salt water."})
    patient_client.submit("/portal/health-summary/send/", {"email": "dr.smith@otherclinic.example"})
    assert smtp.mails == []
    assert kinds_by_status() == {"queued": {"reset_code", "new_message", "health_summary"}}

    with RunningWorker():
        mails = smtp.wait_for(3)
    by_subject = {mail.subject: mail for mail in mails}
    code_mail = by_subject["Harbor Family Dental: password reset code"]
    notice = by_subject["New message from Harbor Family Dental"]
    summary = by_subject["A document from Harbor Family Dental"]
    assert code_mail.to == notice.to == [complete_patient.email]
    assert "Still swollen" not in notice.body and "salt" not in notice.body
    assert summary.to == ["dr.smith@otherclinic.example"]
    [(filename, content_type, pdf)] = summary.attachments
    assert (filename, content_type) == ("health-summary.pdf", "application/pdf")
    assert "Periodontitis" in pdf_text(pdf)

    # The code from the mail works; the reset queues the "password changed" notice.
    code = CODE.search(code_mail.body).group()
    reset = CsrfClient().submit(
        "/portal/reset/", {"username": username, "code": code, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert reset.status_code == 302 and len(smtp.mails) == 3
    assert PortalAccount.objects.get(patient=complete_patient).check_password(NEW_PASSWORD)
    with RunningWorker():
        changed = smtp.wait_for(4)[-1]
    assert changed.subject == "Harbor Family Dental: your portal password was changed"
    assert changed.to == [complete_patient.email] and not CODE.search(changed.body)

    assert kinds_by_status() == {"sent": {"reset_code", "new_message", "health_summary", "password_changed"}}
    assert set(OutboxEmail.objects.values_list("attempts", flat=True)) == {1}
    assert len(smtp.mails) == 4 and GOOD_PASSWORD not in str([m.body for m in smtp.mails])
