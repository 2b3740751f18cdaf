"""Without EMAIL_HOST the demo keeps mail in a local outbox administrators can read (SPEC K9)."""

import re

from django.core.mail import send_mail

from molar.access.services import access_provide
from molar.audit.services import Actor
from tests.conftest import CsrfClient


def test_outbox_shows_mail_written_by_the_file_backend(admin_client, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    send_mail("Harbor: password reset code", "Your reset code: ABCDE-FGHJK", None, ["maria@example.com"])
    page = admin_client.get("/staff/outbox/").content.decode()
    assert "Harbor: password reset code" in page and "maria@example.com" in page
    assert "ABCDE-FGHJK" in page


def test_outbox_says_mail_goes_out_with_smtp(admin_client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert "there is no local outbox" in admin_client.get("/staff/outbox/").content.decode()


def test_outbox_needs_the_permission(clerk_client):
    assert clerk_client.get("/staff/outbox/").status_code == 403


def test_front_desk_may_not_read_the_outbox(desk_client, settings, tmp_path):
    """It holds reset codes and emailed passwords (SPEC K9)."""
    from molar.audit.models import AuditEvent

    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    send_mail("Harbor: password reset code", "Your reset code: ABCDE-FGHJK", None, ["maria@example.com"])
    response = desk_client.get("/staff/outbox/")
    assert response.status_code == 403 and b"ABCDE-FGHJK" not in response.content
    assert AuditEvent.objects.get(action="permission_denied").detail["path"] == "/staff/outbox/"
    assert 'href="/staff/outbox/"' not in desk_client.get("/staff/patients/").content.decode()


def test_outbox_shows_the_mail_the_worker_sent(
    admin_client, settings, tmp_path, practice, complete_patient, send_outbox
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    username = access_provide(patient=complete_patient, actor=Actor.system("test")).username
    CsrfClient().submit("/portal/forgot/", {"username": username})
    page = admin_client.get("/staff/outbox/").content.decode()
    assert "1 email waiting for the worker." in page and "No messages." in page

    assert send_outbox().sent == 1

    page = admin_client.get("/staff/outbox/").content.decode()
    assert "No email is waiting for the worker." in page
    assert "Harbor Family Dental: password reset code" in page and complete_patient.email in page
    assert re.search(r"Your reset code: [A-Z2-9]{5}-[A-Z2-9]{5}", page)


def test_outbox_reads_accented_mail_as_sent(admin_client, settings, tmp_path):
    """SPEC V9: the outbox shows "Sofía", not "Sof\ufffda" (the mail itself was fine)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    send_mail("Hola Sofía", "Querida Sofía: ¿cómo está?", None, ["sofia@example.com"])
    page = admin_client.get("/staff/outbox/").content.decode()
    assert "Hola Sofía" in page and "Querida Sofía: ¿cómo está?" in page
    assert "\ufffd" not in page
