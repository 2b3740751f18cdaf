"""SPEC H1 as staff use it: template pages (administrators) and a patient's sheets."""

import re

import pytest

from molar.access.models import PortalAccount
from molar.audit.models import AuditEvent
from molar.sheets.models import Sheet, SheetTemplate

from .conftest import MSG_TAG_IN_DASHBOARD, TAG, pdf_text, printed_password

TEMPLATES = "/staff/sheets/templates/"


def sheets_url(patient, rest=""):
    return f"/staff/patients/{patient.pk}/sheets/{rest}"


def errors(response) -> list[str]:
    block = re.search(r'<ul class="errorlist"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1)) if block else []


def template_post(name="Welcome letter", kind="letter", rows=()) -> dict:
    data = {
        "name": name,
        "kind": kind,
        "fields-TOTAL_FORMS": str(len(rows)),
        "fields-INITIAL_FORMS": "0",
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in {"kind": "static_text", "field_name": "", "text": "", "order": "", **row}.items():
            data[f"fields-{i}-{key}"] = value
    return data


def test_anonymous_is_sent_to_sign_in(browser_client, complete_patient):
    for url in (TEMPLATES, sheets_url(complete_patient)):
        response = browser_client.get(url)
        assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_clerk_gets_403_and_an_audit_row(clerk_client, practice, complete_patient, welcome_letter):
    assert clerk_client.get(sheets_url(complete_patient)).status_code == 403
    event = AuditEvent.objects.get(action="permission_denied")
    assert event.outcome == "denied" and event.patient_id == complete_patient.pk
    assert event.detail["permission"] == "access.manage_portal_access"
    response = clerk_client.submit(sheets_url(complete_patient, "new/"), {"template": welcome_letter.pk})
    assert response.status_code == 403
    assert not Sheet.objects.exists() and not PortalAccount.objects.exists()


def test_front_desk_may_not_edit_templates(desk_client, welcome_letter):
    assert desk_client.get(TEMPLATES).status_code == 403
    response = desk_client.submit(f"{TEMPLATES}{welcome_letter.pk}/", template_post(kind="form"))
    assert response.status_code == 403
    assert SheetTemplate.objects.get().kind == "letter"
    assert (
        AuditEvent.objects.filter(
            action="permission_denied", detail__permission="practice.manage_settings"
        ).count()
        == 2
    )


def test_admin_creates_a_template_with_its_fields_in_order(admin_client):
    rows = [
        {"text": "Welcome.", "order": "2"},
        {"kind": "patient_field", "field_name": "first_name", "text": "Dear", "order": "1"},
        {"text": TAG, "order": "3"},
        {"text": "dropped", "DELETE": "on"},
    ]
    response = admin_client.submit(f"{TEMPLATES}new/", template_post(rows=rows), follow=True)
    template = SheetTemplate.objects.get()
    assert [(f.kind, f.field_name, f.text) for f in template.fields.all()] == [
        ("patient_field", "first_name", "Dear"),
        ("static_text", "", "Welcome."),
        ("static_text", "", TAG),
    ]
    assert "Sheet template “Welcome letter” saved." in response.content.decode()
    assert admin_client.get(TEMPLATES).content.decode().count("Welcome letter") == 1


def test_edit_page_shows_the_fields_and_keeps_untouched_rows(admin_client, welcome_letter):
    page = admin_client.get(f"{TEMPLATES}{welcome_letter.pk}/")
    assert page.status_code == 200 and "Welcome to our patient portal." in page.content.decode()
    formset = page.context["formset"]
    data = template_post(name="Renamed", rows=[f.initial for f in formset.forms if f.initial])
    admin_client.submit(f"{TEMPLATES}{welcome_letter.pk}/", data)
    welcome_letter.refresh_from_db()
    assert welcome_letter.name == "Renamed" and welcome_letter.fields.count() == 4


def test_dashboard_refusal_is_shown_on_the_page(admin_client, welcome_letter):
    response = admin_client.submit(f"{TEMPLATES}new/", template_post(kind="dashboard", rows=[{"text": TAG}]))
    assert response.status_code == 200 and errors(response) == [MSG_TAG_IN_DASHBOARD]
    assert SheetTemplate.objects.count() == 1
    page = admin_client.get(f"{TEMPLATES}{welcome_letter.pk}/")
    rows = [f.initial for f in page.context["formset"].forms if f.initial]
    response = admin_client.submit(
        f"{TEMPLATES}{welcome_letter.pk}/", template_post(kind="dashboard", rows=rows)
    )
    assert errors(response) == [MSG_TAG_IN_DASHBOARD]
    welcome_letter.refresh_from_db()
    assert welcome_letter.kind == "letter"


@pytest.mark.parametrize(
    "data",
    [
        template_post(rows=[{"kind": "patient_field", "field_name": "password"}]),
        template_post(rows=[{"kind": "memo"}, {"order": "x"}]),
        template_post(name="", kind="memo"),
        template_post(rows=[{"kind": "practice_field"}]),
        {"name": "No management form"},
        {},
    ],
)
def test_bad_template_input_gives_messages_not_500(admin_client, data):
    response = admin_client.submit(f"{TEMPLATES}new/", data)
    assert response.status_code == 200 and errors(response)
    assert not SheetTemplate.objects.exists()


def test_delete_asks_first_and_keeps_made_sheets(admin_client, practice, complete_patient, welcome_letter):
    admin_client.submit(sheets_url(complete_patient, "new/"), {"template": welcome_letter.pk})
    confirm = admin_client.get(f"{TEMPLATES}{welcome_letter.pk}/delete/")
    assert "Delete template" in confirm.content.decode() and SheetTemplate.objects.exists()
    admin_client.submit(f"{TEMPLATES}{welcome_letter.pk}/delete/", {"confirm": "yes"})
    assert not SheetTemplate.objects.exists()
    assert Sheet.objects.get().template_name == "Welcome letter"


def test_create_sheet_downloads_the_pdf_with_credentials(
    desk_client, practice, complete_patient, welcome_letter
):
    page = desk_client.get(sheets_url(complete_patient))
    assert "Create sheet" in page.content.decode() and "Welcome letter" in page.content.decode()
    response = desk_client.submit(sheets_url(complete_patient, "new/"), {"template": welcome_letter.pk})
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    password = printed_password(response.content)
    assert PortalAccount.objects.get(patient=complete_patient).check_password(password)
    listing = desk_client.get(sheets_url(complete_patient)).content.decode()
    assert "Credentials printed" in listing and password not in listing


def test_print_again_shows_asterisks(desk_client, practice, complete_patient, welcome_letter):
    made = desk_client.submit(sheets_url(complete_patient, "new/"), {"template": welcome_letter.pk})
    password = printed_password(made.content)
    sheet = Sheet.objects.get()
    reprint = desk_client.submit(sheets_url(complete_patient, f"{sheet.pk}/print/"))
    assert reprint["Content-Type"] == "application/pdf"
    assert printed_password(reprint.content) == "********" and password not in pdf_text(reprint.content)


def test_sheet_without_credentials_says_why_on_the_next_page(
    desk_client, practice, make_patient, welcome_letter
):
    patient = make_patient(email="")
    response = desk_client.submit(sheets_url(patient, "new/"), {"template": welcome_letter.pk})
    assert "Password" not in pdf_text(response.content)
    page = desk_client.get(sheets_url(patient)).content.decode()
    assert "The sheet was made without portal credentials: Missing patient email." in page
    assert "Credentials left out" in page


def test_another_patients_sheet_is_404(desk_client, practice, make_patient, welcome_letter):
    owner, other = make_patient(), make_patient()
    desk_client.submit(sheets_url(owner, "new/"), {"template": welcome_letter.pk})
    sheet = Sheet.objects.get()
    assert desk_client.submit(sheets_url(other, f"{sheet.pk}/print/")).status_code == 404
    assert desk_client.submit(sheets_url(owner, f"{sheet.pk}/print/")).status_code == 200
    assert desk_client.get(sheets_url(owner, f"{sheet.pk + 1}/print/")).status_code == 405


def test_unknown_patient_is_404(desk_client, welcome_letter):
    assert desk_client.get("/staff/patients/999999/sheets/").status_code == 404


@pytest.mark.parametrize("template", ["", "999999", "abc"])
def test_bad_template_choice_gives_a_message(
    desk_client, practice, complete_patient, welcome_letter, template
):
    response = desk_client.submit(sheets_url(complete_patient, "new/"), {"template": template})
    assert response.status_code == 200 and errors(response)
    assert not Sheet.objects.exists()


def test_post_without_csrf_token_is_refused(desk_client, practice, complete_patient, welcome_letter):
    response = desk_client.post(sheets_url(complete_patient, "new/"), {"template": welcome_letter.pk})
    assert response.status_code == 403
    assert not Sheet.objects.exists() and not PortalAccount.objects.exists()


def test_pages_work_without_javascript(admin_client, complete_patient, welcome_letter):
    for url in (
        TEMPLATES,
        f"{TEMPLATES}new/",
        f"{TEMPLATES}{welcome_letter.pk}/",
        sheets_url(complete_patient),
    ):
        response = admin_client.get(url)
        # The one script is the idle-timeout dialog (SPEC V4), an addition
        # the page's forms do not depend on.
        scripts = re.findall(r"<script[^>]*>", response.content.decode())
        assert response.status_code == 200 and scripts == ['<script src="/static/molar/session.js" defer>'], (
            scripts
        )
    form_page = admin_client.get(sheets_url(complete_patient)).content.decode()
    assert form_page.count('name="csrfmiddlewaretoken"') >= 2  # sign-out and Create sheet
