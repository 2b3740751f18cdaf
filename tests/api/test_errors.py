"""SPEC X2, X4: every API error is `{"errors": [...]}`, an unexpected one
included, and the OpenAPI document declares each operation's error statuses."""

import logging

import pytest

from molar.api import patients as patients_api
from molar.api.base import SERVER_ERROR


def test_an_unexpected_error_is_a_json_500_without_details_and_is_logged(desk_api, monkeypatch, caplog):
    def broken(query):
        raise RuntimeError("secret internals: /srv/molar/db.sqlite3")

    monkeypatch.setattr(patients_api, "patients_search", broken)
    with caplog.at_level(logging.ERROR, logger="molar.api.base"):
        response = desk_api.get("/patients")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"errors": [SERVER_ERROR]}
    assert "secret" not in response.content.decode()
    assert any("secret internals" in (r.exc_text or "") for r in caplog.records)


def test_an_unknown_api_path_is_a_json_404(desk_api):
    response = desk_api.get("/no-such-thing")

    assert response.status_code == 404
    assert response.json() == {"errors": ["Not found: no such API path."]}


def test_a_method_the_path_does_not_take_is_a_json_405_with_allow(desk_api):
    response = desk_api.put("/patients", json={})

    assert response.status_code == 405
    assert response.json()["errors"] and "POST" in response["Allow"]


def test_staff_pages_keep_their_html_errors(desk_client, db):
    response = desk_client.get("/staff/patients/999999/")

    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


@pytest.fixture
def openapi(desk_api):
    return desk_api.get("/openapi.json").json()


def _operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_operation_declares_its_error_statuses_with_the_shared_schema(openapi):
    assert openapi["components"]["schemas"]["Errors"]["properties"]["errors"]["type"] == "array"
    for path, method, operation in _operations(openapi):
        responses = operation["responses"]
        assert {"401", "403", "503"} <= set(responses), (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= set(responses), (method, path)
        for status, response in responses.items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Errors"}, (method, path, status)
                assert response["description"]
        assert "500" not in responses


def test_conflicts_are_declared_where_they_can_happen(openapi):
    access = openapi["paths"]["/api/v1/patients/{patient_id}/portal-access"]
    assert "409" in access["post"]["responses"] and "409" in access["delete"]["responses"]
    assert "409" not in access["get"]["responses"]
    assert "409" not in openapi["paths"]["/api/v1/patients"]["post"]["responses"]
