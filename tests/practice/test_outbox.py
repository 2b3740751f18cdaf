"""Without EMAIL_HOST the demo keeps mail in a local outbox staff can read."""

from django.core.mail import send_mail


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
