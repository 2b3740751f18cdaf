"""Without EMAIL_HOST the demo keeps mail in a local outbox staff can read."""

import re

from django.core.mail import send_mail

from molar.access.services import access_provide
from molar.audit.services import Actor
from tests.conftest import CsrfClient


def test_outbox_shows_mail_written_by_the_file_backend(desk_client, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    send_mail("Harbor: password reset code", "Your reset code: ABCDE-FGHJK", None,
              ["maria@example.com"])
    page = desk_client.get("/staff/outbox/").content.decode()
    assert "Harbor: password reset code" in page and "maria@example.com" in page
    assert "ABCDE-FGHJK" in page


def test_outbox_says_mail_goes_out_with_smtp(desk_client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert "there is no local outbox" in desk_client.get("/staff/outbox/").content.decode()


def test_outbox_needs_the_permission(clerk_client):
    assert clerk_client.get("/staff/outbox/").status_code == 403


def test_outbox_shows_the_mail_the_worker_sent(desk_client, settings, tmp_path, practice,
                                                complete_patient, send_outbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    username = access_provide(patient=complete_patient, actor=Actor.system("test")).username
    CsrfClient().submit("/portal/forgot/", {"username": username})
    page = desk_client.get("/staff/outbox/").content.decode()
    assert "1 email waiting for the worker." in page and "No messages." in page

    assert send_outbox().sent == 1

    page = desk_client.get("/staff/outbox/").content.decode()
    assert "No email is waiting for the worker." in page
    assert "Harbor Family Dental: password reset code" in page and complete_patient.email in page
    assert re.search(r"Your reset code: [A-Z2-9]{5}-[A-Z2-9]{5}", page)
