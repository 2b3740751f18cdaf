"""Habit 11: one handler answers every service's refusal. A refusal from a
service the API package never imported, raised in any route, is the
documented status and `{"errors": [...]}` with no handler of its own."""

import json

import pytest
from django.test import RequestFactory

from molar.api import patients as patients_api
from molar.api.base import api
from molar.refusal import Kind, Refused


def _answer(refused: Refused) -> tuple[int, dict]:
    response = api.on_exception(RequestFactory().get("/api/v1/anything"), refused)
    return response.status_code, json.loads(response.content)


def test_one_handler_is_registered_for_refusals():
    assert [cls for cls in api._exception_handlers if issubclass(cls, Refused)] == [Refused]


@pytest.mark.parametrize(("kind", "status"), [(Kind.INVALID, 422), (Kind.CONFLICT, 409)])
def test_a_refusal_from_a_new_service_needs_no_handler(desk_api, monkeypatch, kind, status):
    def new_service(query):  # stands for any service added later, anywhere
        raise Refused(["Choose a later day.", "Name a provider."], kind=kind)

    monkeypatch.setattr(patients_api, "patients_search", new_service)
    response = desk_api.get("/patients")

    assert response.status_code == status
    assert response.json() == {"errors": ["Choose a later day.", "Name a provider."]}


def test_field_problems_are_one_message_each_named_when_asked():
    assert _answer(Refused("Refused as a whole.", fields={"email": ["Enter a valid email."]})) == (
        422,
        {"errors": ["Refused as a whole.", "Enter a valid email."]},
    )
    assert _answer(
        Refused(
            fields={"email": ["Enter a valid email."], "__all__": ["Managed elsewhere."]}, name_fields=True
        )
    ) == (422, {"errors": ["email: Enter a valid email.", "Managed elsewhere."]})
