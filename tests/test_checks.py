"""`molar check --deploy` names each production risk (molar/checks.py)."""

import base64
import secrets

import pytest
from django.core.checks import Warning
from django.db import DatabaseError

from molar import checks


def ids(found) -> list[str]:
    return [w.id for w in found]


def test_the_deploy_checks_are_registered():
    from django.core.checks import registry

    deploy = registry.registry.get_checks(include_deployment_checks=True)
    for check in (
        checks.check_secret_key_source,
        checks.check_database,
        checks.check_email,
        checks.check_https,
        checks.check_audit_signing_key,
        checks.check_two_factor,
    ):
        assert check in deploy


def test_secret_key_from_the_demo_file_is_a_warning(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    [found] = checks.check_secret_key_source(None)
    assert isinstance(found, Warning) and found.id == "molar.W001"
    assert "SECRET_KEY" in found.msg and "demo created" in found.msg
    assert "Set SECRET_KEY in the environment" in found.hint


def test_secret_key_from_the_environment_passes(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(50))
    assert checks.check_secret_key_source(None) == []


def test_sqlite_is_a_warning(monkeypatch, settings):
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", "django.db.backends.sqlite3")
    [found] = checks.check_database(None)
    assert found.id == "molar.W002"
    assert "SQLite" in found.msg and "no row locks between workers" in found.msg
    assert "DATABASE_URL=postgres://" in found.hint


def test_postgresql_passes(monkeypatch, settings):
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", "django.db.backends.postgresql")
    assert checks.check_database(None) == []


@pytest.mark.parametrize(
    ("backend", "host"),
    [
        ("django.core.mail.backends.filebased.EmailBackend", ""),
        ("django.core.mail.backends.smtp.EmailBackend", ""),  # SMTP to nowhere
        ("django.core.mail.backends.filebased.EmailBackend", "smtp.example.com"),
    ],
)
def test_email_that_is_not_sent_is_a_warning(monkeypatch, settings, backend, host):
    settings.EMAIL_BACKEND = backend
    monkeypatch.setenv("EMAIL_HOST", host)
    [found] = checks.check_email(None)
    assert found.id == "molar.W003"
    assert "Email is not sent" in found.msg and "reset codes and invites" in found.msg
    assert "EMAIL_HOST" in found.hint


def test_smtp_with_a_host_passes(monkeypatch, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    monkeypatch.setenv("EMAIL_HOST", "smtp.example.com")
    assert checks.check_email(None) == []


def test_https_off_is_a_warning(settings):
    settings.HTTPS = False
    [found] = checks.check_https(None)
    assert found.id == "molar.W004"
    assert "HTTPS is off" in found.msg and "not marked Secure" in found.msg and "HSTS" in found.msg
    assert "HTTPS=true" in found.hint


def test_https_on_passes(settings):
    settings.HTTPS = True
    assert checks.check_https(None) == []


def test_audit_signing_key_missing_is_a_warning(settings):
    settings.AUDIT_SIGNING_KEY = ""
    [found] = checks.check_audit_signing_key(None)
    assert found.id == "molar.W005"
    assert "AUDIT_SIGNING_KEY is not set" in found.msg and "key the demo generated" in found.msg


def test_audit_signing_key_that_is_not_32_bytes_is_a_warning(settings):
    settings.AUDIT_SIGNING_KEY = base64.b64encode(b"short").decode()
    found = checks.check_audit_signing_key(None)
    assert ids(found) == ["molar.W006"] and "32 bytes in base64" in found[0].msg


def test_a_proper_audit_signing_key_passes(settings):
    settings.AUDIT_SIGNING_KEY = base64.b64encode(secrets.token_bytes(32)).decode()
    assert checks.check_audit_signing_key(None) == []


def test_two_factor_off_is_a_warning(practice):
    from molar.practice.models import PracticeSettings

    assert checks.check_two_factor(None) == []
    PracticeSettings.objects.filter(pk=1).update(require_admin_two_factor=False)
    found = checks.check_two_factor(None)
    assert ids(found) == ["molar.W007"] and "administrators" in found[0].msg
    assert "a stolen password is enough" in found[0].msg
    PracticeSettings.objects.filter(pk=1).update(require_staff_two_factor=False)
    assert "staff or administrators" in checks.check_two_factor(None)[0].msg


def test_a_new_install_needs_no_warning_about_two_factor(db):
    assert checks.check_two_factor(None) == []


def test_the_demo_turns_two_factor_off_and_the_check_says_so(db):
    from molar.demo.loader import demo_load

    demo_load(port=8000)
    assert ids(checks.check_two_factor(None)) == ["molar.W007"]


def test_unreadable_two_factor_settings_are_a_warning(db, monkeypatch):
    from molar.practice.models import PracticeSettings

    def unreachable(*args, **kwargs):
        raise DatabaseError("no such table")

    monkeypatch.setattr(PracticeSettings.objects, "filter", unreachable)
    [found] = checks.check_two_factor(None)
    assert found.id == "molar.W008"
    assert "two-factor settings could not be read (DatabaseError)" in found.msg
    assert "molar migrate" in found.hint
