"""SPEC H1 and X2: sheets in the JSON API."""

import io

import pytest
from django.core.management import call_command

from molar.access.models import AccessEvent, PortalAccount
from molar.audit.models import AuditEvent
from molar.sheets.models import Sheet, SheetTemplate

from .conftest import MSG_TAG_IN_DASHBOARD, TAG, pdf_text, printed_password

LETTER = {
    "name": "Welcome letter",
    "kind": "letter",
    "fields": [
        {"kind": "patient_field", "field_name": "first_name", "text": "Dear"},
        {"kind": "static_text", "text": f"Welcome.\n{TAG}"},
    ],
}


def refusal(response, status: int) -> list[str]:
    assert response.status_code == status, response.content
    return response.json()["errors"]


def test_admin_creates_reads_updates_and_deletes_a_template(admin_api):
    created = admin_api.post("/sheet-templates", LETTER)
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "Welcome letter" and body["kind"] == "letter"
    assert body["fields"] == [
        {"order": 1, "kind": "patient_field", "field_name": "first_name", "text": "Dear"},
        {"order": 2, "kind": "static_text", "field_name": "", "text": f"Welcome.\n{TAG}"},
    ]
    tid = body["id"]
    assert admin_api.get(f"/sheet-templates/{tid}").json() == body
    assert [t["id"] for t in admin_api.get("/sheet-templates").json()] == [tid]
    patched = admin_api.patch(f"/sheet-templates/{tid}", {"name": "Hello", "kind": "form"}).json()
    assert (patched["name"], patched["kind"], len(patched["fields"])) == ("Hello", "form", 2)
    replaced = admin_api.patch(f"/sheet-templates/{tid}", {"fields": [{"kind": "static_text", "text": "Hi"}]})
    assert [f["text"] for f in replaced.json()["fields"]] == ["Hi"]
    assert admin_api.delete(f"/sheet-templates/{tid}").status_code == 204
    assert refusal(admin_api.get(f"/sheet-templates/{tid}"), 404) == ["Sheet template not found."]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"sheet_template_created", "sheet_template_updated", "sheet_template_deleted"} <= actions


def test_dashboard_refusal_text(admin_api):
    response = admin_api.post("/sheet-templates", {**LETTER, "kind": "dashboard"})
    assert refusal(response, 422) == [MSG_TAG_IN_DASHBOARD]
    tid = admin_api.post("/sheet-templates", LETTER).json()["id"]
    assert refusal(admin_api.patch(f"/sheet-templates/{tid}", {"kind": "dashboard"}), 422) == [
        MSG_TAG_IN_DASHBOARD
    ]
    assert SheetTemplate.objects.get().kind == "letter"


def test_dashboard_accepts_the_words_in_another_case(admin_api):
    response = admin_api.post(
        "/sheet-templates",
        {
            "name": "Board",
            "kind": "dashboard",
            "fields": [{"kind": "static_text", "text": "[PatientPortalCredentials]"}],
        },
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "fields": []},
        {"name": "x" * 101},
        {"name": "Letter", "kind": "memo"},
        {"name": "Letter", "fields": [{"kind": "patient_field", "field_name": "password"}]},
        {"name": "Letter", "fields": [{"kind": "static_text", "text": "   "}]},
        {"name": "Letter", "fields": [{"kind": "memo"}]},
        {"name": "Letter", "fields": "not a list"},
        {"name": "Letter", "fields": [{"kind": "static_text", "text": "x"}] * 201},
        {"fields": []},
    ],
)
def test_bad_template_input_is_422_with_messages(admin_api, body):
    messages = refusal(admin_api.post("/sheet-templates", body), 422)
    assert messages and all(isinstance(m, str) and m for m in messages)
    assert not SheetTemplate.objects.exists()


def test_patch_with_null_is_422(admin_api):
    tid = admin_api.post("/sheet-templates", LETTER).json()["id"]
    assert refusal(admin_api.patch(f"/sheet-templates/{tid}", {"name": None}), 422) == [
        "name: must not be null."
    ]


def test_front_desk_reads_templates_but_may_not_change_them(desk_api, admin_api):
    tid = admin_api.post("/sheet-templates", LETTER).json()["id"]
    assert desk_api.get("/sheet-templates").status_code == 200
    assert desk_api.post("/sheet-templates", LETTER).status_code == 403
    assert desk_api.patch(f"/sheet-templates/{tid}", {"name": "x"}).status_code == 403
    assert desk_api.delete(f"/sheet-templates/{tid}").status_code == 403
    assert SheetTemplate.objects.get().name == "Welcome letter"


def test_clerk_gets_403_and_an_audit_row(clerk_api, admin_api, practice, complete_patient):
    tid = admin_api.post("/sheet-templates", LETTER).json()["id"]
    response = clerk_api.post(f"/patients/{complete_patient.pk}/sheets", {"template_id": tid})
    assert refusal(response, 403)
    event = AuditEvent.objects.get(action="permission_denied")
    assert event.outcome == "denied" and event.patient_id == complete_patient.pk
    assert clerk_api.get(f"/patients/{complete_patient.pk}/sheets").status_code == 403
    assert clerk_api.get("/sheet-templates").status_code == 403
    assert not Sheet.objects.exists() and not PortalAccount.objects.exists()


def test_create_sheet_returns_the_pdf_and_grants_access(desk_api, admin_api, practice, complete_patient):
    tid = admin_api.post("/sheet-templates", LETTER).json()["id"]
    response = desk_api.post(f"/patients/{complete_patient.pk}/sheets", {"template_id": tid})
    assert response.status_code == 201 and response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    sheet = Sheet.objects.get(pk=int(response["X-Sheet-Id"]))
    account = PortalAccount.objects.get(patient=complete_patient)
    password = printed_password(response.content)
    assert f"UserName: {account.username}" in pdf_text(response.content)
    assert account.check_password(password) and account.require_password_change
    assert AccessEvent.objects.get().source == "sheet"
    listed = desk_api.get(f"/patients/{complete_patient.pk}/sheets")
    assert [s["id"] for s in listed.json()] == [sheet.pk]
    assert listed.json()[0]["credentials"] == "issued"
    assert "Password: ********" in listed.json()[0]["content"]
    assert password not in listed.content.decode()


def test_reprint_shows_asterisks_and_the_database_holds_no_password(
    desk_api, admin_api, practice, complete_patient
):
    tid = admin_api.post("/sheet-templates", LETTER).json()["id"]
    made = desk_api.post(f"/patients/{complete_patient.pk}/sheets", {"template_id": tid})
    password = printed_password(made.content)
    reprint = desk_api.get(f"/sheets/{made['X-Sheet-Id']}/pdf")
    assert reprint.status_code == 200 and reprint["Content-Type"] == "application/pdf"
    assert printed_password(reprint.content) == "********"
    assert password not in pdf_text(reprint.content)
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert password not in dump.getvalue()


def test_patient_with_own_password_gets_an_empty_tag(desk_api, admin_api, practice, complete_patient):
    tid = admin_api.post("/sheet-templates", LETTER).json()["id"]
    desk_api.post(f"/patients/{complete_patient.pk}/portal-access")
    account = PortalAccount.objects.get()
    account.set_password("Harbor9Tide")
    account.require_password_change = False
    account.save()
    made = desk_api.post(f"/patients/{complete_patient.pk}/sheets", {"template_id": tid})
    assert made.status_code == 201 and "Password" not in pdf_text(made.content)
    assert Sheet.objects.get().content == ["Dear Maria", "Welcome."]


def test_unknown_things_are_404_or_422(desk_api, admin_api, practice, complete_patient):
    tid = admin_api.post("/sheet-templates", LETTER).json()["id"]
    assert refusal(desk_api.post("/patients/999999/sheets", {"template_id": tid}), 404)
    assert refusal(desk_api.get("/patients/999999/sheets"), 404)
    assert refusal(desk_api.get("/sheets/999999/pdf"), 404) == ["Sheet not found."]
    assert refusal(
        desk_api.post(f"/patients/{complete_patient.pk}/sheets", {"template_id": 999999}), 422
    ) == ["template_id: no sheet template has the id 999999."]
    assert refusal(desk_api.post(f"/patients/{complete_patient.pk}/sheets", {}), 422)
    assert refusal(desk_api.post(f"/patients/{complete_patient.pk}/sheets", {"template_id": "x"}), 422)
    assert not Sheet.objects.exists() and not PortalAccount.objects.exists()


def test_openapi_lists_the_sheet_routes(anonymous_api):
    paths = anonymous_api.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/sheet-templates",
        "/api/v1/sheet-templates/{template_id}",
        "/api/v1/patients/{patient_id}/sheets",
        "/api/v1/sheets/{sheet_id}/pdf",
    ):
        assert path in paths
