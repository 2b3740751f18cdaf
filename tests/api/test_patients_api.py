"""GET/POST /api/v1/patients and GET/PATCH /api/v1/patients/{id} (issue 2 item 8, SPEC P1)."""

import datetime
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from molar.audit.models import AuditEvent
from molar.patients.models import Patient

FIELDS = [
    "first_name",
    "middle_name",
    "last_name",
    "preferred_name",
    "address1",
    "address2",
    "city",
    "state",
    "zip",
    "birth_date",
    "home_phone",
    "wireless_phone",
    "work_phone",
    "email",
    "status",
]
# Read-only in the answer: links, clinic, guardians and the Open Dental ids (SPEC O2).
OUT_ONLY = [
    "gender",
    "language",
    "guarantor_id",
    "responsible_party_id",
    "primary_provider",
    "clinic",
    "guardians",
    "opendental_patnum",
    "managed_in_opendental",
]
EMPTY_OUT = {
    "gender": "",
    "language": "",
    "guarantor_id": None,
    "responsible_party_id": None,
    "primary_provider": None,
    "clinic": None,
    "guardians": [],
    "opendental_patnum": None,
    "managed_in_opendental": False,
}
STATUSES = ["patient", "non_patient", "inactive", "archived", "deceased", "prospective"]
FULL = {
    "first_name": "Ana",
    "middle_name": "Luisa",
    "last_name": "Ortega",
    "preferred_name": "Lu",
    "address1": "4 Pier Road",
    "address2": "Apt 2",
    "city": "Bath",
    "state": "ME",
    "zip": "04530",
    "birth_date": "1990-07-04",
    "home_phone": "207-555-0110",
    "wireless_phone": "207-555-0111",
    "work_phone": "207-555-0112",
    "email": "ana@example.com",
    "status": "inactive",
}


def refusal(response, status: int) -> list[str]:
    """The body of a refusal: exactly {"errors": [non-empty strings]}."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errors"}
    assert body["errors"], body
    assert all(isinstance(m, str) and m.strip() for m in body["errors"]), body
    return body["errors"]


def test_create_patient_is_201_with_every_field_and_id(desk_api):
    response = desk_api.post("/patients", json=FULL)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", *FIELDS, *OUT_ONLY}
    assert {k: body[k] for k in FIELDS} == FULL
    patient = Patient.objects.get(pk=body["id"])
    assert patient.birth_date == datetime.date(1990, 7, 4)
    assert patient.status == "inactive"


def test_create_patient_is_audited(desk_api, front_desk):
    patient_id = desk_api.post("/patients", json=FULL).json()["id"]

    event = AuditEvent.objects.get(action="patient_created")
    assert (event.patient_id, event.actor_id, event.outcome) == (patient_id, front_desk.pk, "success")


def test_create_patient_with_only_names_uses_defaults(desk_api):
    response = desk_api.post("/patients", json={"first_name": "Ana", "last_name": "Ortega"})

    assert response.status_code == 201
    assert response.json()["status"] == "patient"
    assert response.json()["birth_date"] is None


@pytest.mark.parametrize("raw", ["{}", "null", ""])
def test_create_patient_without_a_body_or_names_is_422_and_creates_nothing(desk_api, raw):
    """SPEC P4: a null or empty body is a 422, not a nameless patient."""
    assert refusal(desk_api.post("/patients", raw=raw), 422) in (
        ["first_name: Field required", "last_name: Field required"],
        ["Field required"],
        ["The request body must be a JSON object, not null."],
    )
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ({"first_name": " ", "last_name": "Ortega"}, ["first_name: First name is required."]),
        ({"first_name": "Ana", "last_name": "\t "}, ["last_name: Last name is required."]),
        (
            {"first_name": "", "last_name": ""},
            [
                "first_name: String should have at least 1 character",
                "last_name: String should have at least 1 character",
            ],
        ),
    ],
)
def test_blank_names_are_422_on_create_and_patch(desk_api, complete_patient, names, expected):
    assert refusal(desk_api.post("/patients", json={**FULL, **names}), 422) == expected
    assert refusal(desk_api.patch(f"/patients/{complete_patient.pk}", json=names), 422) == expected
    complete_patient.refresh_from_db()
    assert complete_patient.first_name == "Maria" and Patient.objects.count() == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{}", "The request body names no field to change."),
        ("null", "The request body must be a JSON object, not null."),
    ],
)
def test_patch_without_any_field_is_422(desk_api, complete_patient, raw, message):
    assert refusal(desk_api.patch(f"/patients/{complete_patient.pk}", raw=raw), 422) == [message]


def test_get_patient_returns_every_field(desk_api):
    patient_id = desk_api.post("/patients", json=FULL).json()["id"]

    response = desk_api.get(f"/patients/{patient_id}")

    assert response.status_code == 200
    assert response.json() == {"id": patient_id, **FULL, **EMPTY_OUT}


def test_patch_patient_changes_only_the_given_fields(desk_api, complete_patient):
    response = desk_api.patch(
        f"/patients/{complete_patient.pk}", json={"city": "Bangor", "birth_date": None, "state": "nh"}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["city"], body["birth_date"], body["state"]) == ("Bangor", None, "NH")
    assert body["first_name"] == "Maria"
    complete_patient.refresh_from_db()
    assert complete_patient.city == "Bangor"
    assert complete_patient.birth_date is None
    assert complete_patient.email.startswith("maria")
    event = AuditEvent.objects.get(action="patient_updated")
    assert event.detail == {"fields": ["birth_date", "city", "state"]}


def test_list_patients_searches_pages_and_shows_fields(desk_api, make_patient):
    make_patient(first_name="Zoe", last_name="Quill")
    for _ in range(3):
        make_patient(first_name="Omar")

    found = desk_api.get("/patients")
    omars = desk_api.get("/patients?q=omar&limit=2")
    rest = desk_api.get("/patients?q=omar&limit=2&offset=2")
    zoe = desk_api.get("/patients?q=zoe quill")

    assert found.status_code == 200
    assert len(found.json()) == 4
    assert set(found.json()[0]) == {"id", *FIELDS, *OUT_ONLY}
    assert [p["first_name"] for p in omars.json()] == ["Omar", "Omar"]
    assert len(rest.json()) == 1
    assert [p["last_name"] for p in zoe.json()] == ["Quill"]


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=501", "limit=abc", "offset=-1", "offset=100000000000000000000000", "q=" + "x" * 201],
)
def test_list_patients_with_bad_paging_is_422(desk_api, query):
    refusal(desk_api.get(f"/patients?{query}"), 422)


def test_nul_character_in_the_query_is_400(desk_api):
    refusal(desk_api.get("/patients?q=ma%00ria"), 400)


@pytest.mark.parametrize("patient_id", ["999999", "99999999999999999999999", "0", "-1"])
def test_unknown_patient_is_404(desk_api, patient_id):
    assert refusal(desk_api.get(f"/patients/{patient_id}"), 404) == ["Patient not found."]
    refusal(desk_api.patch(f"/patients/{patient_id}", json={"city": "Bath"}), 404)


def test_non_numeric_patient_id_is_422_naming_the_id(desk_api):
    [message] = refusal(desk_api.get("/patients/abc"), 422)

    assert message.startswith("patient_id:") and "valid integer" in message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_name": 123}, "first_name"),
        ({"first_name": None}, "first_name"),
        ({"first_name": ["Ana"]}, "first_name"),
        ({"birth_date": "not-a-date"}, "birth_date"),
        ({"birth_date": "2001-02-30"}, "birth_date"),
        ({"birth_date": 19900704}, "birth_date"),
        ({"birth_date": "1879-12-31"}, "birth_date"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"status": "zombie"}, "status"),
        ({"email": "not-an-email"}, "email"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"city": "x" * 100_000}, "city"),
    ],
)
def test_wrong_types_and_values_are_422_naming_the_field(desk_api, complete_patient, body, field):
    created = refusal(
        desk_api.post("/patients", json={"first_name": "Ana", "last_name": "Ortega", **body}), 422
    )
    patched = refusal(desk_api.patch(f"/patients/{complete_patient.pk}", json=body), 422)

    assert all(message.startswith(f"{field}: ") for message in created + patched)
    assert Patient.objects.count() == 1


@pytest.mark.parametrize("raw", ["{bad", '{"first_name": "Ana"', "first_name=Ana", "\x00"])
def test_malformed_json_is_400(desk_api, raw):
    assert refusal(desk_api.post("/patients", raw=raw), 400) == ["The request body is not valid JSON."]
    assert not Patient.objects.exists()


@pytest.mark.parametrize("raw", ["[]", '[{"first_name": "Ana"}]', '"Ana"', "42", "false"])
def test_body_that_is_not_a_json_object_is_400_and_creates_nothing(desk_api, complete_patient, raw):
    expected = ["The request body must be a JSON object."]

    assert refusal(desk_api.post("/patients", raw=raw), 400) == expected
    assert refusal(desk_api.patch(f"/patients/{complete_patient.pk}", raw=raw), 400) == expected
    assert Patient.objects.count() == 1


@pytest.mark.parametrize("depth", [500, 5_000])
def test_deeply_nested_json_is_not_a_server_error(desk_api, depth):
    raw = '{"first_name": ' + "[" * depth + "]" * depth + "}"

    refusal(desk_api.post("/patients", raw=raw), 422 if depth < 900 else 400)


def test_nul_character_in_a_body_is_400_and_creates_nothing(desk_api):
    response = desk_api.post("/patients", json={"first_name": "An\x00a"})

    assert refusal(response, 400) == ["The request body must not contain NUL characters."]
    assert not Patient.objects.exists()


def test_body_over_the_upload_limit_is_413(desk_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = desk_api.post("/patients", json={"first_name": "x" * 20_000})

    refusal(response, 413)


def test_clerk_may_list_and_read_but_not_create_or_change(clerk_api, clerk, complete_patient):
    assert clerk_api.get("/patients").status_code == 200
    assert clerk_api.get(f"/patients/{complete_patient.pk}").status_code == 200

    refusal(clerk_api.post("/patients", json=FULL), 403)
    refusal(clerk_api.patch(f"/patients/{complete_patient.pk}", json={"city": "Bath"}), 403)

    assert Patient.objects.count() == 1
    denied = AuditEvent.objects.filter(action="permission_denied", outcome="denied", actor_id=clerk.pk)
    assert sorted(e.detail["permission"] for e in denied) == [
        "patients.add_patient",
        "patients.change_patient",
    ]


@pytest.mark.parametrize("method", ["get", "post"])
def test_without_a_key_is_401(anonymous_api, method):
    refusal(anonymous_api.call(method, "/patients", json=FULL if method == "post" else None), 401)
    assert not Patient.objects.exists()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=120)
    | st.dates().map(str)
    | st.sampled_from(STATUSES),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), json_values, max_size=6))
def test_random_json_objects_never_cause_a_server_error(desk_api, body):
    response = desk_api.post("/patients", raw=json.dumps(body))

    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        refusal(response, response.status_code)
