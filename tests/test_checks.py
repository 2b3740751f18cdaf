"""`molar check --deploy` names each production risk (molar/checks.py)."""

import base64
import secrets

from molar import checks


def ids(found) -> list[str]:
    return [w.id for w in found]


def test_audit_signing_key_missing_is_a_warning(settings):
    settings.AUDIT_SIGNING_KEY = ""
    assert ids(checks.check_audit_signing_key(None)) == ["molar.W005"]


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
    PracticeSettings.objects.filter(pk=1).update(require_staff_two_factor=False)
    assert "staff or administrators" in checks.check_two_factor(None)[0].msg


def test_a_new_install_needs_no_warning_about_two_factor(db):
    assert checks.check_two_factor(None) == []


def test_the_demo_turns_two_factor_off_and_the_check_says_so(db):
    from molar.demo.loader import demo_load

    demo_load(port=8000)
    assert ids(checks.check_two_factor(None)) == ["molar.W007"]
