"""SPEC K7: over HTTPS the session and CSRF cookies are __Host- prefixed (so
Secure, Path=/, no Domain); sign-out clears site data."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import CsrfClient


def settings_with(env: dict) -> dict:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({k: getattr(settings, k) for k in ('SESSION_COOKIE_NAME', 'CSRF_COOKIE_NAME', "
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
        "'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SAMESITE', 'SESSION_COOKIE_DOMAIN', "
        "'CSRF_COOKIE_DOMAIN', 'SESSION_COOKIE_PATH', 'CSRF_COOKIE_PATH')}))"
    )
    base = {k: v for k, v in os.environ.items() if k not in ("HTTPS", "SECURE_COOKIES", "DEBUG")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, "DJANGO_SETTINGS_MODULE": "molar.settings", **env},
        check=True,
    )
    return json.loads(result.stdout)


def test_https_true_gives_host_prefixed_secure_cookies():
    found = settings_with({"HTTPS": "true"})
    assert found["SESSION_COOKIE_NAME"] == "__Host-sessionid"
    assert found["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    assert found["SESSION_COOKIE_SECURE"] and found["CSRF_COOKIE_SECURE"] and found["SESSION_COOKIE_HTTPONLY"]
    assert found["SESSION_COOKIE_DOMAIN"] is None and found["CSRF_COOKIE_DOMAIN"] is None
    assert found["SESSION_COOKIE_PATH"] == found["CSRF_COOKIE_PATH"] == "/"
    assert found["SESSION_COOKIE_SAMESITE"] == found["CSRF_COOKIE_SAMESITE"] == "Lax"


def test_plain_http_keeps_the_plain_names():
    """A __Host- cookie without Secure is dropped by browsers: the local demo needs plain names."""
    found = settings_with({"HTTPS": "false"})
    assert (found["SESSION_COOKIE_NAME"], found["CSRF_COOKIE_NAME"]) == ("sessionid", "csrftoken")


@pytest.fixture
def https(settings):
    settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME = "__Host-sessionid", "__Host-csrftoken"
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = False


def test_the_cookies_sent_over_https_meet_the_host_prefix_rules(https, credentials):
    client = CsrfClient()
    client.get("/portal/", secure=True)
    token = client.cookies["__Host-csrftoken"].value
    response = client.post(
        "/portal/",
        {"username": credentials[0], "password": credentials[1], "csrfmiddlewaretoken": token},
        secure=True,
        headers={"Referer": "https://testserver/portal/"},
    )
    assert response.status_code == 302
    for name in ("__Host-sessionid", "__Host-csrftoken"):
        cookie = client.cookies[name]
        assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"], name
    assert client.cookies["__Host-sessionid"]["httponly"]
    assert "sessionid" not in client.cookies and "csrftoken" not in client.cookies


def test_staff_sign_out_clears_site_data(desk_client):
    response = desk_client.submit("/staff/logout/")
    assert response["Clear-Site-Data"] == '"cookies", "storage"'
    assert desk_client.get("/staff/patients/").status_code == 302
