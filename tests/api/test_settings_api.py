"""GET/PUT /api/v1/settings/portal (issue 2 item 8, SPEC S1, S2)."""

import pytest

from molar.audit.models import AuditEvent
from molar.practice.models import PracticeSettings
from tests.conftest import PORTAL_URL

URL_SCHEME_MESSAGE = (
    "Patient Facing URL must start with https:// (http:// is allowed only for localhost or 127.0.0.1)."
)
SHOWN = {
    "enabled",
    "patient_facing_url",
    "practice_name",
    "practice_email",
    "practice_phone",
    "country",
    "password_policy",
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


def test_get_settings_shows_the_portal_settings(admin_api, practice):
    response = admin_api.get("/settings/portal")

    assert response.status_code == 200
    assert response.json() == {
        "enabled": True,
        "patient_facing_url": PORTAL_URL,
        "practice_name": "Harbor Family Dental",
        "practice_email": "frontdesk@harbordental.example",
        "practice_phone": "207-555-0100",
        "country": "US",
        "password_policy": "seed",
    }


def test_get_settings_on_a_fresh_database_has_the_portal_off(admin_api):
    body = admin_api.get("/settings/portal").json()

    assert set(body) == SHOWN
    assert body["enabled"] is False
    assert body["patient_facing_url"] == ""


def test_put_settings_changes_given_fields_keeps_the_rest_and_is_audited(admin_api, admin, practice):
    response = admin_api.put(
        "/settings/portal",
        json={
            "enabled": False,
            "practice_name": "Bayside Dental",
            "country": "CA",
            "patient_facing_url": "https://portal.bayside.example/",
        },
    )

    assert response.status_code == 200
    assert response.json() == {
        "enabled": False,
        "patient_facing_url": "https://portal.bayside.example/",
        "practice_name": "Bayside Dental",
        "practice_email": "frontdesk@harbordental.example",
        "practice_phone": "207-555-0100",
        "country": "CA",
        "password_policy": "seed",
    }
    stored = PracticeSettings.load()
    assert (stored.portal_enabled, stored.country) == (False, "CA")
    event = AuditEvent.objects.get(action="settings_changed")
    assert event.actor_id == admin.pk
    assert event.detail == {"fields": ["country", "patient_facing_url", "portal_enabled", "practice_name"]}


def test_put_settings_with_nulls_keeps_current_values(admin_api, practice):
    response = admin_api.put("/settings/portal", json={"enabled": None, "practice_name": None})

    assert response.status_code == 200
    assert response.json()["enabled"] is True
    assert response.json()["practice_name"] == "Harbor Family Dental"
    assert not AuditEvent.objects.filter(action="settings_changed").exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://portal.example.com/",
        "HTTPS://PORTAL.EXAMPLE.COM/",
        "http://localhost:8000/portal/",
        "http://127.0.0.1:8000/",
    ],
)
def test_put_accepts_https_in_any_case_and_http_only_for_localhost(admin_api, practice, url):
    response = admin_api.put("/settings/portal", json={"patient_facing_url": url})

    assert response.status_code == 200
    assert PracticeSettings.load().patient_facing_url == url


@pytest.mark.parametrize(
    "url",
    ["http://portal.example.com/", "ftp://portal.example.com/", "portal.example.com", "javascript:alert(1)"],
)
def test_put_refuses_a_patient_facing_url_that_is_not_https(admin_api, practice, url):
    response = admin_api.put("/settings/portal", json={"patient_facing_url": url})

    assert refusal(response, 422) == [URL_SCHEME_MESSAGE]
    assert PracticeSettings.load().patient_facing_url == PORTAL_URL


def test_put_refuses_a_url_with_credentials(admin_api, practice):
    response = admin_api.put(
        "/settings/portal", json={"patient_facing_url": "https://u:p@portal.example.com/"}
    )

    refusal(response, 422)
    assert PracticeSettings.load().patient_facing_url == PORTAL_URL


@pytest.mark.parametrize(
    "body",
    [
        {"enabled": "maybe"},
        {"enabled": [True]},
        {"practice_name": 5},
        {"country": "usa"},
        {"country": "us"},
        {"country": ""},
        {"password_policy": "strong"},
        {"practice_email": "not-an-email"},
        {"practice_name": "x" * 100_000},
        {"patient_facing_url": "https://" + "x" * 400 + ".example/"},
    ],
)
def test_put_with_wrong_types_or_values_is_422_and_changes_nothing(admin_api, practice, body):
    before = admin_api.get("/settings/portal").json()

    refusal(admin_api.put("/settings/portal", json=body), 422)

    assert admin_api.get("/settings/portal").json() == before


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("{bad", 400),
        ("[]", 400),
        ('[{"enabled": false}]', 400),
        ("true", 400),
    ],
)
def test_put_with_a_body_that_is_not_a_json_object_is_400(admin_api, practice, raw, status):
    refusal(admin_api.put("/settings/portal", raw=raw), status)

    assert PracticeSettings.load().portal_enabled is True


def test_front_desk_may_read_but_not_change_settings(desk_api, front_desk, practice):
    assert desk_api.get("/settings/portal").status_code == 200

    [message] = refusal(desk_api.put("/settings/portal", json={"enabled": False}), 403)

    assert "practice.manage_settings" in message
    assert PracticeSettings.load().portal_enabled is True
    denied = AuditEvent.objects.get(action="permission_denied")
    assert (denied.outcome, denied.actor_id) == ("denied", front_desk.pk)


def test_clerk_may_not_read_settings(clerk_api, clerk, practice):
    refusal(clerk_api.get("/settings/portal"), 403)

    assert AuditEvent.objects.filter(action="permission_denied", outcome="denied", actor_id=clerk.pk).exists()


@pytest.mark.parametrize("method", ["get", "put"])
def test_settings_without_a_key_are_401(anonymous_api, practice, method):
    refusal(
        anonymous_api.call(method, "/settings/portal", json={"enabled": False} if method == "put" else None),
        401,
    )

    assert PracticeSettings.load().portal_enabled is True


def test_turning_the_portal_off_through_the_api_stops_provide(admin_api, practice, complete_patient):
    admin_api.put("/settings/portal", json={"enabled": False})

    response = admin_api.post(f"/patients/{complete_patient.pk}/portal-access")

    assert refusal(response, 422) == ["Patient Portal is not enabled. Turn it on in eServices Setup."]


def test_clearing_the_url_through_the_api_stops_provide(admin_api, practice, complete_patient):
    assert admin_api.put("/settings/portal", json={"patient_facing_url": ""}).status_code == 200

    response = admin_api.post(f"/patients/{complete_patient.pk}/portal-access")

    assert refusal(response, 422) == [
        "Patient Facing URL is required to be set before granting online access. "
        "Click Setup to set the Patient Facing URL."
    ]


def test_settings_and_invite_rules_are_read_by_the_same_staff(desk_api, admin_api, clerk_api):
    """One rule (api.base.require_settings_reader): those who manage settings
    or portal access read both; anyone else is refused alike, and audited."""
    for path in ("/settings/portal", "/invite-rules"):
        assert desk_api.get(path).status_code == 200 and admin_api.get(path).status_code == 200
        assert clerk_api.get(path).json() == {
            "errors": ["This API key's user lacks the permission access.manage_portal_access."]
        }
    assert (
        AuditEvent.objects.filter(
            action="permission_denied", detail__permission="access.manage_portal_access"
        ).count()
        == 2
    )
