"""Every response carries the security headers; signed-in pages are not cached."""

import pytest
from django.http import HttpResponse

from molar.headers import SecurityHeadersMiddleware
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


NEVER_CACHED = {"max-age=0", "no-cache", "no-store", "must-revalidate", "private"}


def directives(response) -> list[str]:
    return [d.strip() for d in response["Cache-Control"].split(",")]


def test_a_signed_in_page_that_only_said_no_store_gets_every_directive(rf, front_desk):
    def view(request):
        response = HttpResponse("chart")
        response["Cache-Control"] = "no-store"
        return response

    request = rf.get("/staff/patients/")
    request.user = front_desk
    response = SecurityHeadersMiddleware(view)(request)
    assert NEVER_CACHED <= set(directives(response)) and response.has_header("Expires")
