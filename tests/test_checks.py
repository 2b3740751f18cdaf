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
