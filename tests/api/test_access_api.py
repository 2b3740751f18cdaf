"""The portal-access part of the JSON API (issue 2 item 8; SPEC W1-W7, A2, C3, C4)
and the rules every route shares: Bearer keys, permissions, the error shape,
and the OpenAPI document."""

import contextlib
import io
import json
import signal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from molar.access.models import AccessEvent, PortalAccount
from molar.audit.models import AuditEvent
from tests.conftest import PORTAL_URL

MSG_PORTAL_OFF = "Patient Portal is not enabled. Turn it on in eServices Setup."
MSG_URL_MISSING = (
    "Patient Facing URL is required to be set before granting online access. "
    "Click Setup to set the Patient Facing URL."
)
MSG_ALREADY = "Patient already has online access. Use Generate New for a new password."
MSG_PROVIDE_FIRST = "Please use the Provide Online Access button first."
MSG_USERNAME_BLANK = "Online Username cannot be blank."
MSG_USERNAME_TAKEN = "The Online Username already exists."
MSG_PASSWORD_REQUIRED = "Password required. Please generate a new password."
# SPEC P3, in SPEC order.
ELIGIBILITY_MESSAGES = [
    "Missing patient first name.",
    "Missing patient last name.",
    "Missing patient address line 1.",
    "Missing patient city.",
    "Invalid patient state. Must be two letters.",
    "Missing patient birth date.",
    "Missing patient phone. Must have home, wireless, or work phone.",
    "Missing patient email.",
]

# Every route of issue 2 item 8: method, path (`{id}` is the patient), a body that
# would be accepted.
ROUTES = [
    ("get", "/settings/portal", None),
    ("put", "/settings/portal", {"practice_name": "Harbor"}),
    ("get", "/patients", None),
    ("post", "/patients", {"first_name": "Ann"}),
    ("get", "/patients/{id}", None),
    ("patch", "/patients/{id}", {"first_name": "Ann"}),
    ("get", "/patients/{id}/portal-access", None),
    ("post", "/patients/{id}/portal-access", None),
    ("delete", "/patients/{id}/portal-access", None),
    ("patch", "/patients/{id}/portal-access", {"username": "ann123"}),
    ("post", "/patients/{id}/portal-access/password", None),
    ("post", "/patients/{id}/portal-access/printout", {"password": "Xy3abcde"}),
]
ACCESS_ROUTES = [route for route in ROUTES if "portal-access" in route[1]]


def refusal(response, status: int) -> list[str]:
    """The body of a refusal: exactly {"errors": [non-empty strings]}."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errors"}
    assert body["errors"], body
    assert all(isinstance(m, str) and m.strip() for m in body["errors"]), body
    return body["errors"]


def access_url(patient_id: int, tail: str = "") -> str:
    return f"/patients/{patient_id}/portal-access{tail}"


def generate(api, patient_id: int):
    """POST .../password with no body at all (no content type either)."""
    return api.client.generic("POST", f"/api/v1{access_url(patient_id, '/password')}", headers=api.headers)


@pytest.fixture
def provided(desk_api, practice, complete_patient):
    """A patient who was just given access: (patient, username, password)."""
    body = desk_api.post(access_url(complete_patient.pk)).json()
    return complete_patient, body["username"], body["password"]


def account_of(patient) -> PortalAccount:
    return PortalAccount.objects.get(patient=patient)


# --- GET ------------------------------------------------------------------------------


def test_get_access_for_patient_without_account_shows_no_access(desk_api, complete_patient):
    response = desk_api.get(access_url(complete_patient.pk))

    assert response.status_code == 200
    assert response.json() == {
        "has_access": False,
        "username": None,
        "require_password_change": False,
        "require_username_change": False,
        "last_login": None,
        "locked": False,
        "lock_reason": "",
    }


def test_get_access_shows_state_and_never_the_password_or_hash(desk_api, provided):
    patient, username, password = provided

    response = desk_api.get(access_url(patient.pk))

    assert response.status_code == 200
    assert response.json() == {
        "has_access": True,
        "username": username,
        "require_password_change": True,
        "require_username_change": False,
        "last_login": None,
        "locked": False,
        "lock_reason": "",
    }
    raw = response.content.decode()
    assert password not in raw
    assert account_of(patient).password not in raw
    for hash_marker in ("argon2", "md5$", "pbkdf2", "sha3"):
        assert hash_marker not in raw.lower()


# --- provide (W1) ---------------------------------------------------------------------


def test_provide_returns_201_with_username_password_and_url(desk_api, practice, complete_patient):
    response = desk_api.post(access_url(complete_patient.pk))

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"username", "password", "patient_facing_url"}
    assert body["username"].startswith("Maria")
    assert len(body["password"]) == 8
    assert body["patient_facing_url"] == PORTAL_URL


def test_provide_stores_only_a_hash_and_requires_a_password_change(desk_api, practice, complete_patient):
    body = desk_api.post(access_url(complete_patient.pk)).json()

    account = account_of(complete_patient)
    assert account.username == body["username"]
    assert account.password != body["password"]
    assert body["password"] not in account.password
    assert account.check_password(body["password"])
    assert account.require_password_change


def test_provide_records_online_access_provided_event(desk_api, practice, complete_patient):
    desk_api.post(access_url(complete_patient.pk))

    event = AccessEvent.objects.get(patient=complete_patient)
    assert event.kind == "OnlineAccessProvided"
    assert event.source == "api"


def test_provide_without_portal_enabled_is_422_with_message(desk_api, practice, complete_patient):
    practice.portal_enabled = False
    practice.save()

    response = desk_api.post(access_url(complete_patient.pk))

    assert refusal(response, 422) == [MSG_PORTAL_OFF]
    assert not PortalAccount.objects.exists()


def test_provide_without_patient_facing_url_is_422_with_message(desk_api, practice, complete_patient):
    practice.patient_facing_url = ""
    practice.save()

    response = desk_api.post(access_url(complete_patient.pk))

    assert refusal(response, 422) == [MSG_URL_MISSING]
    assert not PortalAccount.objects.exists()


def test_provide_lists_every_eligibility_problem_at_once_in_spec_order(desk_api, practice, make_patient):
    empty = make_patient(
        first_name="",
        last_name="",
        address1="",
        city="",
        state="",
        birth_date=None,
        wireless_phone="",
        email="",
    )

    response = desk_api.post(access_url(empty.pk))

    assert refusal(response, 422) == ELIGIBILITY_MESSAGES
    assert not PortalAccount.objects.exists()
    assert not AccessEvent.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"first_name": "  "}, ELIGIBILITY_MESSAGES[0]),
        ({"last_name": ""}, ELIGIBILITY_MESSAGES[1]),
        ({"address1": ""}, ELIGIBILITY_MESSAGES[2]),
        ({"city": ""}, ELIGIBILITY_MESSAGES[3]),
        ({"state": "Maine"}, ELIGIBILITY_MESSAGES[4]),
        ({"birth_date": None}, ELIGIBILITY_MESSAGES[5]),
        ({"wireless_phone": ""}, ELIGIBILITY_MESSAGES[6]),
        ({"email": ""}, ELIGIBILITY_MESSAGES[7]),
    ],
)
def test_provide_names_the_one_missing_field(desk_api, practice, make_patient, overrides, message):
    patient = make_patient(**overrides)

    assert refusal(desk_api.post(access_url(patient.pk)), 422) == [message]


def test_provide_to_patient_who_has_access_is_409(desk_api, provided):
    patient, _, password = provided

    response = desk_api.post(access_url(patient.pk))

    assert refusal(response, 409) == [MSG_ALREADY]
    assert account_of(patient).check_password(password)


def test_provide_refusal_is_audited_as_failure(desk_api, practice, make_patient):
    patient = make_patient(email="")

    desk_api.post(access_url(patient.pk))

    event = AuditEvent.objects.get(action="access_provided")
    assert event.outcome == "failure"
    assert event.patient_id == patient.pk
    assert event.detail == {"reasons": ["Missing patient email."]}


# --- remove (W2, A2) ------------------------------------------------------------------


def test_remove_is_204_and_keeps_the_row_and_username(desk_api, provided):
    patient, username, password = provided

    response = desk_api.delete(access_url(patient.pk))

    assert response.status_code == 204
    assert response.content == b""
    state = desk_api.get(access_url(patient.pk)).json()
    assert state["has_access"] is False
    assert state["username"] == username
    account = account_of(patient)
    assert not account.check_password(password)


def test_provide_after_remove_reuses_the_username(desk_api, provided):
    patient, username, old_password = provided
    desk_api.delete(access_url(patient.pk))

    body = desk_api.post(access_url(patient.pk)).json()

    assert body["username"] == username
    assert body["password"] != old_password
    assert PortalAccount.objects.filter(patient=patient).count() == 1


def test_remove_without_access_is_409(desk_api, practice, complete_patient):
    response = desk_api.delete(access_url(complete_patient.pk))

    assert refusal(response, 409) == ["Patient does not have online access."]


# --- generate new (W3) and typed passwords (W5, C3) -----------------------------------


def test_generate_without_body_returns_new_password_and_old_one_stops(desk_api, provided):
    patient, _, old_password = provided

    response = generate(desk_api, patient.pk)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"password"}
    assert body["password"] != old_password
    account = account_of(patient)
    assert account.check_password(body["password"])
    assert not account.check_password(old_password)
    assert account.require_password_change


def test_generate_with_an_empty_body_also_generates(desk_api, provided):
    patient, _, old_password = provided

    response = desk_api.post(access_url(patient.pk, "/password"), raw="")

    assert response.status_code == 200
    assert account_of(patient).check_password(response.json()["password"])


def test_a_null_body_is_422_and_changes_nothing(desk_api, provided):
    """SPEC P4: `null` is not "no body"; an optional body is left out instead."""
    patient, _, old_password = provided

    response = desk_api.post(access_url(patient.pk, "/password"), raw="null")

    assert refusal(response, 422) == ["The request body must be a JSON object, not null."]
    assert account_of(patient).check_password(old_password)


def test_generate_before_provide_is_refused_with_message(desk_api, practice, complete_patient):
    response = generate(desk_api, complete_patient.pk)

    assert refusal(response, 409) == [MSG_PROVIDE_FIRST]


def test_generate_with_portal_disabled_is_422_with_message(desk_api, provided, practice):
    practice.portal_enabled = False
    practice.save()

    assert refusal(generate(desk_api, provided[0].pk), 422) == [MSG_PORTAL_OFF]


def test_typed_password_is_set_as_one_time_password(desk_api, provided):
    patient, _, old_password = provided
    account = account_of(patient)
    account.require_password_change = False
    account.save()

    response = desk_api.post(access_url(patient.pk, "/password"), json={"password": "Harbor7Lights"})

    assert response.status_code == 200
    assert response.json() == {"password": "Harbor7Lights"}
    account.refresh_from_db()
    assert account.check_password("Harbor7Lights")
    assert not account.check_password(old_password)
    assert account.require_password_change


@pytest.mark.parametrize(
    ("password", "messages"),
    [
        ("Ab3", ["Password must be at least 8 characters."]),
        ("harbor7lights", ["Password must contain an uppercase letter."]),
        ("HARBOR7LIGHTS", ["Password must contain a lowercase letter."]),
        ("HarborLights", ["Password must contain a digit."]),
        ("Password1", ["Password is too common. Choose one that is harder to guess."]),
        ("xMaria7Harbor", ["Password must not contain the patient's first name."]),
        (
            "qzxv",
            [
                "Password must be at least 8 characters.",
                "Password must contain an uppercase letter.",
                "Password must contain a digit.",
            ],
        ),
        ("Aa1" * 43, ["Password must be at most 128 characters."]),
    ],
)
def test_typed_password_breaking_the_policy_is_422_with_c3_messages(desk_api, provided, password, messages):
    patient, _, old_password = provided

    response = desk_api.post(access_url(patient.pk, "/password"), json={"password": password})

    assert refusal(response, 422) == messages
    assert account_of(patient).check_password(old_password)
    assert password not in response.content.decode()


def test_typed_password_containing_the_username_is_422(desk_api, provided):
    patient, username, _ = provided

    response = desk_api.post(access_url(patient.pk, "/password"), json={"password": f"Zz9{username.lower()}"})

    assert "Password must not contain the username." in refusal(response, 422)


def test_typed_password_under_length_profile_needs_15_characters(desk_api, provided, practice):
    practice.password_policy = "length"
    practice.save()
    patient = provided[0]

    short = desk_api.post(access_url(patient.pk, "/password"), json={"password": "harborlights"})
    long = desk_api.post(
        access_url(patient.pk, "/password"), json={"password": "quiet harbor lights at dusk"}
    )

    assert refusal(short, 422) == ["Password must be at least 15 characters."]
    assert long.status_code == 200


def test_typed_password_before_provide_is_refused(desk_api, practice, complete_patient):
    response = desk_api.post(access_url(complete_patient.pk, "/password"), json={"password": "Harbor7Lights"})

    assert refusal(response, 409) == [MSG_PROVIDE_FIRST]


@contextlib.contextmanager
def at_most(seconds: int):
    """Fail, instead of hanging the suite, when the block runs too long."""

    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("action", ["provide", "generate"])
def test_provide_and_generate_under_the_length_profile_answer(
    desk_api, provided, practice, make_patient, action
):
    practice.password_policy = "length"
    practice.save()

    with at_most(2):
        if action == "provide":
            response = desk_api.post(access_url(make_patient().pk))
        else:
            response = generate(desk_api, provided[0].pk)

    assert response.status_code == (201 if action == "provide" else 200), response.content
    assert len(response.json()["password"]) >= 8


# --- username (W6) --------------------------------------------------------------------


def test_rename_changes_the_username(desk_api, provided):
    patient = provided[0]

    response = desk_api.patch(access_url(patient.pk), json={"username": "maria.lopez"})

    assert response.status_code == 200
    assert response.json()["username"] == "maria.lopez"
    assert response.json()["has_access"] is True
    assert account_of(patient).username == "maria.lopez"


@pytest.mark.parametrize("spelling", [str, str.upper, str.lower, str.swapcase])
def test_rename_to_a_username_taken_in_any_letter_case_is_409(desk_api, provided, make_patient, spelling):
    patient, username, _ = provided
    other = make_patient(first_name="Jonas")
    other_name = desk_api.post(access_url(other.pk)).json()["username"]

    response = desk_api.patch(access_url(patient.pk), json={"username": spelling(other_name)})

    assert refusal(response, 409) == [MSG_USERNAME_TAKEN]
    assert account_of(patient).username == username


def test_rename_own_username_in_another_letter_case_is_allowed(desk_api, provided):
    patient, username, _ = provided

    response = desk_api.patch(access_url(patient.pk), json={"username": username.upper()})

    assert response.status_code == 200
    assert account_of(patient).username == username.upper()


@pytest.mark.parametrize("blank", ["", "   "])
def test_rename_to_blank_is_422_with_message(desk_api, provided, blank):
    response = desk_api.patch(access_url(provided[0].pk), json={"username": blank})

    assert refusal(response, 422) == [MSG_USERNAME_BLANK]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": 5},
        {"username": None},
        {"username": ["a"]},
        {"username": "x" * 5000},
        {"username": "x" * 65},
        {"username": "has space"},
    ],
)
def test_rename_with_bad_input_is_422(desk_api, provided, body):
    patient, username, _ = provided

    refusal(desk_api.patch(access_url(patient.pk), json=body), 422)
    assert account_of(patient).username == username


def test_rename_to_64_letters_that_fold_longer_is_not_a_server_error(desk_api, provided):
    response = desk_api.patch(access_url(provided[0].pk), json={"username": "\u00df" * 64})

    assert refusal(response, 422) == ["Online Username must be at most 64 characters."]
    assert len(account_of(provided[0]).username_folded) <= 64


def test_provide_for_a_long_first_name_gives_a_username_of_at_most_64(desk_api, practice, make_patient):
    patient = make_patient(first_name="A" * 100)

    response = desk_api.post(access_url(patient.pk))

    assert response.status_code == 201
    assert len(response.json()["username"]) <= 64


# --- printout (W7) --------------------------------------------------------------------


def test_printout_is_a_pdf_with_username_and_password(desk_api, provided):
    patient, username, password = provided

    response = desk_api.post(access_url(patient.pk, "/printout"), json={"password": password})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in (
        "Harbor Family Dental",
        "Online Access",
        "Website",
        PORTAL_URL,
        "Username",
        username,
        "Password",
        password,
    ):
        assert expected in text


def test_printout_with_wrong_password_is_422_and_prints_nothing(desk_api, provided):
    patient = provided[0]

    response = desk_api.post(access_url(patient.pk, "/printout"), json={"password": "Wrong7Pass"})

    [message] = refusal(response, 422)
    assert "Please generate a new password." in message
    assert not AuditEvent.objects.filter(action="printed", outcome="success").exists()


def test_printout_of_a_replaced_password_is_422(desk_api, provided):
    patient, _, old_password = provided
    generate(desk_api, patient.pk)

    response = desk_api.post(access_url(patient.pk, "/printout"), json={"password": old_password})

    refusal(response, 422)


@pytest.mark.parametrize("body", [{}, {"password": ""}])
def test_printout_without_password_is_422_password_required(desk_api, provided, body):
    response = desk_api.post(access_url(provided[0].pk, "/printout"), json=body)

    assert refusal(response, 422) == [MSG_PASSWORD_REQUIRED]


def test_printout_without_patient_facing_url_is_422(desk_api, provided, practice):
    practice.patient_facing_url = ""
    practice.save()

    response = desk_api.post(access_url(provided[0].pk, "/printout"), json={"password": provided[2]})

    [message] = refusal(response, 422)
    assert message.startswith("Patient Facing URL is required")


def test_printout_before_provide_is_refused(desk_api, practice, complete_patient):
    response = desk_api.post(access_url(complete_patient.pk, "/printout"), json={"password": "Harbor7Lights"})

    assert refusal(response, 409) == [MSG_PROVIDE_FIRST]


# --- audit (T1, C4) -------------------------------------------------------------------


def test_every_action_is_audited_and_no_audit_row_holds_a_password(desk_api, front_desk, provided):
    patient, _, first = provided
    second = generate(desk_api, patient.pk).json()["password"]
    typed = "Harbor7Lights"
    desk_api.post(access_url(patient.pk, "/password"), json={"password": typed})
    desk_api.post(access_url(patient.pk, "/password"), json={"password": "weak"})
    desk_api.post(access_url(patient.pk, "/printout"), json={"password": typed})
    desk_api.post(access_url(patient.pk, "/printout"), json={"password": "Wrong7Guess"})
    desk_api.patch(access_url(patient.pk), json={"username": "maria.lopez"})
    desk_api.delete(access_url(patient.pk))

    events = AuditEvent.objects.filter(patient_id=patient.pk, outcome="success")
    assert sorted(events.values_list("action", flat=True)) == sorted(
        [
            "access_provided",
            "password_generated",
            "password_typed",
            "printed",
            "username_changed",
            "access_removed",
        ]
    )
    assert all(e.actor_type == "staff" and e.actor_id == front_desk.pk for e in events)
    failures = AuditEvent.objects.filter(patient_id=patient.pk, outcome="failure")
    assert sorted(failures.values_list("action", flat=True)) == ["password_typed", "printed"]
    every_row = json.dumps(list(AuditEvent.objects.values()), default=str)
    for secret in (first, second, typed, "Wrong7Guess"):
        assert secret not in every_row


# --- authentication and permission (item 7, W9) ---------------------------------------


def _call(api, method, path, body, patient_id):
    """The route with its body, or with no body at all (an empty one)."""
    path = path.replace("{id}", str(patient_id))
    if body is None and method not in ("get", "delete"):
        return api.call(method, path, raw="")
    return api.call(method, path, json=body)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_every_route_without_a_key_is_401(anonymous_api, complete_patient, method, path, body):
    response = _call(anonymous_api, method, path, body, complete_patient.pk)

    assert refusal(response, 401) == ["A valid API key is required (Authorization: Bearer <key>)."]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer molar_00000000_wrongwrongwrongwrongwrongwrongwrongwrongwro",
        "Bearer not-a-key",
        "Bearer ",
        "Basic ZnJvbnRkZXNrOnB3",
        "Bearer molar_\x00_x",
        "Bearer " + "x" * 10_000,
    ],
)
@pytest.mark.parametrize(("method", "path", "body"), [ROUTES[2], ROUTES[7]])
def test_wrong_key_is_401(desk_api, complete_patient, method, path, body, header):
    response = desk_api.call(
        method, path.replace("{id}", str(complete_patient.pk)), json=body, headers={"Authorization": header}
    )

    refusal(response, 401)
    assert not PortalAccount.objects.exists()


def test_key_with_a_tampered_secret_is_401(desk_api, complete_patient):
    key = desk_api.headers["Authorization"].removeprefix("Bearer ")
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")

    response = desk_api.get("/patients", headers={"Authorization": f"Bearer {tampered}"})

    refusal(response, 401)


def test_key_of_a_deactivated_user_is_401(desk_api, front_desk):
    front_desk.is_active = False
    front_desk.save()

    refusal(desk_api.get("/patients"), 401)


@pytest.mark.parametrize(("method", "path", "body"), ACCESS_ROUTES)
def test_key_without_manage_portal_access_is_403_and_audited(
    clerk_api, clerk, practice, complete_patient, method, path, body
):
    response = _call(clerk_api, method, path, body, complete_patient.pk)

    [message] = refusal(response, 403)
    assert "access.manage_portal_access" in message
    denied = AuditEvent.objects.get(action="permission_denied")
    assert denied.outcome == "denied"
    assert denied.actor_type == "staff"
    assert denied.actor_id == clerk.pk
    assert denied.patient_id == complete_patient.pk
    assert denied.detail["permission"] == "access.manage_portal_access"
    assert not PortalAccount.objects.exists()


@pytest.mark.parametrize(("method", "path", "body"), ACCESS_ROUTES)
def test_unknown_patient_is_404(desk_api, practice, method, path, body):
    response = _call(desk_api, method, path, body, 999_999)

    assert refusal(response, 404) == ["Patient not found."]


def test_clerk_gets_403_before_404_for_an_unknown_patient(clerk_api):
    refusal(clerk_api.get(access_url(999_999)), 403)


# --- bad input is 4xx, never 5xx (X2) -------------------------------------------------


@pytest.mark.parametrize("raw", ["{bad", '{"password": ', "\xff\xfe", "[" * 100_000])
def test_malformed_json_is_400(desk_api, provided, raw):
    response = desk_api.post(access_url(provided[0].pk, "/password"), raw=raw)

    assert refusal(response, 400) == ["The request body is not valid JSON."]


@pytest.mark.parametrize("raw", ["[]", '[{"password": "Harbor7Lights"}]', '"x"', "7", "true"])
@pytest.mark.parametrize("tail", ["", "/password", "/printout"])
def test_body_that_is_not_a_json_object_is_400(desk_api, provided, raw, tail):
    patient, _, password = provided
    method = "patch" if tail == "" else "post"

    response = desk_api.call(method, access_url(patient.pk, tail), raw=raw)

    assert refusal(response, 400) == ["The request body must be a JSON object."]
    assert account_of(patient).check_password(password)


def test_nul_character_in_a_body_is_400(desk_api, provided):
    response = desk_api.patch(access_url(provided[0].pk), json={"username": "ma\x00ria"})

    assert refusal(response, 400) == ["The request body must not contain NUL characters."]


@pytest.mark.parametrize(
    "body",
    [
        {"password": 12345678},
        {"password": None},
        {"password": ["Harbor7Lights"]},
        {"password": "x" * 100_000},
    ],
)
def test_wrong_type_or_huge_password_is_422(desk_api, provided, body):
    patient, _, password = provided

    refusal(desk_api.post(access_url(patient.pk, "/password"), json=body), 422)
    refusal(desk_api.post(access_url(patient.pk, "/printout"), json=body), 422)
    assert account_of(patient).check_password(password)


def test_body_over_the_upload_limit_is_413(desk_api, provided, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = desk_api.patch(access_url(provided[0].pk), json={"username": "x" * 20_000})

    assert refusal(response, 413) == ["The request body is too large."]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.dictionaries(
        st.sampled_from(["username", "password"]) | st.text(max_size=10), json_values, max_size=4
    )
)
def test_random_json_to_rename_never_causes_a_server_error(desk_api, provided, body):
    response = desk_api.patch(access_url(provided[0].pk), json=body)

    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        refusal(response, response.status_code)


# --- OpenAPI (X2) ---------------------------------------------------------------------


def test_openapi_document_is_json_and_lists_every_route(anonymous_api):
    response = anonymous_api.get("/openapi.json")

    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for method, path, _ in ROUTES:
        documented = f"/api/v1{path.replace('{id}', '{patient_id}')}"
        assert method in paths.get(documented, {}), (method, documented)
    printout = paths["/api/v1/patients/{patient_id}/portal-access/printout"]["post"]
    assert "application/pdf" in printout["responses"]["200"]["content"]


def test_get_access_shows_a_lock_and_its_reason(desk_api, provided):
    from molar.portal.services import SignInFailed, portal_sign_in

    patient, username, _ = provided
    for _ in range(10):
        with pytest.raises(SignInFailed):
            portal_sign_in(username=username, password="Wrong7Pass", address="198.51.100.1")
    body = desk_api.get(access_url(patient.pk)).json()
    assert body["locked"] is True
    assert "10 failed sign-ins in 15 minutes" in body["lock_reason"]
