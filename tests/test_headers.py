"""Every response carries the security headers; signed-in pages are not cached."""

import pytest

from tests.conftest import CsrfClient

PAGES = ["/portal/", "/staff/login/", "/healthz", "/api/v1/openapi.json"]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_has_the_security_headers(db, path):
    response = CsrfClient().get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")
    csp = response["Content-Security-Policy"]
    for directive in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"):
        assert directive in csp
    assert "Strict-Transport-Security" not in response  # http here


def test_signed_in_pages_are_not_cached(desk_client, complete_patient):
    for path in ("/staff/patients/", f"/staff/patients/{complete_patient.pk}/"):
        assert "no-store" in desk_client.get(path)["Cache-Control"]


def test_hsts_over_https(db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_SSL_REDIRECT = False
    response = CsrfClient().get("/portal/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_deploy_check_passes_with_the_documented_production_environment(tmp_path):
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {**base, "MOLAR_HOME": str(tmp_path), "SECRET_KEY": "x" * 20 + "Ab3$" * 15,
           "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres", "HTTPS": "true",
           "TRUST_X_FORWARDED_PROTO": "true", "ALLOWED_HOSTS": "portal.example.com",
           "EMAIL_HOST": "smtp.example.com", "EMAIL_PORT": "587", "EMAIL_USE_TLS": "true",
           "DEFAULT_FROM_EMAIL": "portal@example.com",
           "AUDIT_SIGNING_KEY": "Lx0hVu1dAgS6nN2XkNqGm7o4HqWl3kqK0R6oY5v3a9E="}
    result = subprocess.run([sys.executable, "-m", "molar.cli", "check", "--deploy"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
