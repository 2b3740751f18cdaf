"""SPEC Q4: a transient database error answers 503 "please try again" (a page,
or {"errors": [...]} under /api/v1/) with Retry-After, never a 500."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import InterfaceError, OperationalError

from molar.api import base
from molar.patients import views as patient_views
from tests.conftest import signed_in

TRY_AGAIN = "The service is briefly unavailable. Please try again in a moment."


def raising(exc):
    def fail(*args, **kwargs):
        raise exc

    return fail


def assert_try_again_page(response) -> None:
    assert response.status_code == 503 and response["Retry-After"] == "10"
    assert response["Content-Type"].startswith("text/html")
    assert "Please try again" in response.content.decode()


@pytest.mark.parametrize(
    "exc", [OperationalError("deadlock detected"), InterfaceError("connection already closed")]
)
def test_page_hitting_a_transient_error_answers_503(desk_client, monkeypatch, exc):
    monkeypatch.setattr(patient_views, "patients_search", raising(exc))
    assert_try_again_page(desk_client.get("/staff/patients/"))


def test_error_outside_the_view_answers_503_too(front_desk, monkeypatch):
    # Saving the session happens in a middleware, after the view.
    client = signed_in(front_desk)
    client.raise_request_exception = False
    monkeypatch.setattr(SessionStore, "save", raising(OperationalError("database is locked")))
    assert_try_again_page(client.get("/staff/patients/"))


def test_other_errors_are_still_a_500(desk_client, monkeypatch):
    desk_client.raise_request_exception = False
    monkeypatch.setattr(patient_views, "patients_search", raising(ValueError("bug")))
    response = desk_client.get("/staff/patients/")
    assert response.status_code == 500 and "Something went wrong" in response.content.decode()


def test_api_answers_503_json(desk_api, monkeypatch):
    monkeypatch.setattr("molar.api.patients.patients_search", raising(OperationalError("timeout")))
    response = desk_api.get("/patients")
    assert response.status_code == 503 and response["Retry-After"] == "10"
    assert response.json() == {"errors": [TRY_AGAIN]}


def test_api_key_check_hitting_a_transient_error_answers_503_json(desk_api, monkeypatch):
    monkeypatch.setattr(base, "apikey_user", raising(InterfaceError("connection already closed")))
    response = desk_api.get("/patients")
    assert response.status_code == 503 and response.json() == {"errors": [TRY_AGAIN]}
