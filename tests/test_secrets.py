"""SPEC C4: a known secret, pushed through full flows, is found nowhere:
not in the database dump, the audit trail, or the logs."""

import io
import logging
import re

import pytest
from django.core.management import call_command

from molar.access.models import PortalAccount
from tests.conftest import CsrfClient
from tests.smtp import send_outbox


@pytest.fixture
def all_logs():
    """Capture every log record of every logger, at DEBUG."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_one_time_password_and_reset_code_are_nowhere(
    desk_client, practice, complete_patient, all_logs, mailoutbox
):
    # Staff provide access: the one-time password is shown once.
    page = desk_client.submit(f"/staff/patients/{complete_patient.pk}/portal-access/provide/", follow=True)
    otp = re.search(r'id="online-password" class="secret">([^<]+)<', page.content.decode()).group(1)
    username = PortalAccount.objects.get().username
    # A wrong print attempt and a good one.
    desk_client.submit(f"/staff/patients/{complete_patient.pk}/portal-access/print/", {"password": otp})
    # The patient signs in with it, replaces it, then forgets the new one.
    patient = CsrfClient()
    patient.submit("/portal/", {"username": username, "password": otp})
    patient.submit("/portal/password/new/", {"new": "Harbor9Tide", "confirm": "Harbor9Tide"})
    patient.submit("/portal/sign-out/")
    patient.submit("/portal/forgot/", {"username": username})
    send_outbox()
    code = re.search(r"\b[A-Z2-9]{5}-[A-Z2-9]{5}\b", mailoutbox[0].body).group(0)
    patient.submit(
        "/portal/reset/", {"username": username, "code": code, "new": "Fresh8Water", "confirm": "Fresh8Water"}
    )
    assert PortalAccount.objects.get().check_password("Fresh8Water")

    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    logs = all_logs.getvalue()
    for secret in (otp, code, code.replace("-", ""), "Harbor9Tide", "Fresh8Water"):
        assert secret not in dump.getvalue(), secret
        assert secret not in logs, secret
