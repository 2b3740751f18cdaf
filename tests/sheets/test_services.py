"""SPEC H1 through the services: the credentials tag, the grant, the empty
result, the dashboard refusal, and stored copies without the password (C4)."""

import io

import pytest
from django.core.management import call_command

from molar.access.models import AccessEvent, PortalAccount
from molar.access.services import access_provide
from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.refusal import Refused
from molar.sheets.models import Sheet, SheetTemplate
from molar.sheets.services import (
    sheet_create,
    sheet_reprint,
    sheet_template_delete,
    sheet_template_update,
)

from .conftest import MSG_TAG_IN_DASHBOARD, TAG, pdf_text, printed_password

ACTOR = Actor.system("test")


def create(template, patient):
    return sheet_create(template=template, patient=patient, actor=ACTOR)


def own_password(patient):
    """Access whose one-time password the patient already replaced."""
    access_provide(patient=patient, actor=ACTOR)
    account = PortalAccount.objects.get(patient=patient)
    account.set_password("Harbor9Tide")
    account.require_password_change = False
    account.save()
    return account


def test_tag_becomes_three_lines_and_grants_access(practice, complete_patient, welcome_letter):
    sheet, pdf = create(welcome_letter, complete_patient)
    account = PortalAccount.objects.get(patient=complete_patient)
    password = printed_password(pdf)
    assert pdf_text(pdf).splitlines()[3:] == [
        "Dear Maria",
        "Welcome to our patient portal.",
        "Patient Portal Login",
        f"UserName: {account.username}",
        f"Password: {password}",
        "Questions? Call 207-555-0100",
    ]
    assert len(password) == 8 and account.check_password(password)
    assert account.has_access and account.require_password_change
    event = AccessEvent.objects.get(patient=complete_patient)
    assert (event.kind, event.source) == ("OnlineAccessProvided", "sheet")
    assert sheet.credentials == Sheet.Credentials.ISSUED


def test_credentials_issued_are_audited_without_the_password(practice, complete_patient, welcome_letter):
    sheet, pdf = create(welcome_letter, complete_patient)
    event = AuditEvent.objects.get(action="sheet_credentials_issued")
    assert event.patient_id == complete_patient.pk and event.detail["sheet_id"] == sheet.pk
    assert AuditEvent.objects.filter(action="credentials_issued", outcome="success").exists()
    for row in AuditEvent.objects.all():
        assert printed_password(pdf) not in str(row.detail)


def test_unchanged_one_time_password_is_replaced_without_a_new_access_event(
    practice, complete_patient, welcome_letter
):
    first = access_provide(patient=complete_patient, actor=ACTOR)
    _, pdf = create(welcome_letter, complete_patient)
    account = PortalAccount.objects.get(patient=complete_patient)
    assert f"UserName: {first.username}" in pdf_text(pdf)
    assert account.check_password(printed_password(pdf)) and not account.check_password(first.password)
    assert AccessEvent.objects.filter(patient=complete_patient).count() == 1


def test_patient_with_own_password_gets_no_credential_lines(practice, complete_patient, welcome_letter):
    account = own_password(complete_patient)
    sheet, pdf = create(welcome_letter, complete_patient)
    text = pdf_text(pdf)
    assert not any(line in text for line in ("Patient Portal Login", "UserName", "Password"))
    assert "Welcome to our patient portal.\nQuestions? Call" in text
    account.refresh_from_db()
    assert account.check_password("Harbor9Tide") and not account.require_password_change
    assert sheet.credentials == Sheet.Credentials.OMITTED
    assert sheet.omitted_reasons == ["The patient has set their own password; it is never printed."]
    assert not AuditEvent.objects.filter(action="sheet_credentials_issued").exists()


def test_ineligible_patient_gets_no_credential_lines_and_no_account(practice, make_patient, welcome_letter):
    patient = make_patient(email="", city="")
    sheet, pdf = create(welcome_letter, patient)
    assert "Patient Portal Login" not in pdf_text(pdf) and "Password" not in pdf_text(pdf)
    assert not PortalAccount.objects.exists() and not AccessEvent.objects.exists()
    assert sheet.omitted_reasons == ["Missing patient city.", "Missing patient email."]
    assert AuditEvent.objects.get(action="credentials_issued").outcome == "failure"


@pytest.mark.parametrize("change", [{"portal_enabled": False}, {"patient_facing_url": ""}])
def test_portal_off_or_no_url_gives_no_credential_lines(practice, complete_patient, welcome_letter, change):
    for name, value in change.items():
        setattr(practice, name, value)
    practice.save()
    sheet, pdf = create(welcome_letter, complete_patient)
    assert "Password" not in pdf_text(pdf) and "Welcome to our patient portal." in pdf_text(pdf)
    assert not PortalAccount.objects.exists()
    assert sheet.credentials == Sheet.Credentials.OMITTED and sheet.omitted_reasons


def test_tag_in_another_case_is_plain_text(practice, complete_patient, make_template):
    template = make_template("Login: [PatientPortalCredentials]", "[PATIENTPORTALCREDENTIALS]")
    sheet, pdf = create(template, complete_patient)
    assert sheet.content == ["Login: [PatientPortalCredentials]", "[PATIENTPORTALCREDENTIALS]"]
    assert "Login: [PatientPortalCredentials]" in pdf_text(pdf)
    assert not PortalAccount.objects.exists() and sheet.credentials == Sheet.Credentials.NONE


def test_text_around_the_tag_stays_on_its_own_lines(practice, complete_patient, make_template):
    template = make_template(f"Your login: {TAG} Keep it safe.\n\nSee you soon.")
    sheet, _ = create(template, complete_patient)
    username = PortalAccount.objects.get().username
    assert sheet.content == [
        "Your login:",
        "Patient Portal Login",
        f"UserName: {username}",
        "Password: ********",
        "Keep it safe.",
        "",
        "See you soon.",
    ]


def test_template_without_the_tag_grants_nothing(practice, complete_patient, make_template):
    sheet, _ = create(make_template("Thank you for your visit."), complete_patient)
    assert sheet.content == ["Thank you for your visit."]
    assert not PortalAccount.objects.exists()
    assert not AuditEvent.objects.filter(action="credentials_issued").exists()


def test_patient_and_practice_fields_fill_in(practice, make_patient, make_template):
    practice.address1, practice.city, practice.state, practice.zip = "1 Main St", "Portland", "ME", "04101"
    practice.save()
    patient = make_patient(
        first_name="Zoë", middle_name="A", last_name="Brun", preferred_name="", address2="Apt 2"
    )
    template = make_template(
        *[
            {"kind": "patient_field", "field_name": name, "text": label}
            for name, label in (
                ("full_name", ""),
                ("address", ""),
                ("preferred_name", "Goes by"),
                ("birth_date", "Born"),
                ("phone", "Phone"),
                ("email", ""),
            )
        ],
        {"kind": "practice_field", "field_name": "practice_name"},
        {"kind": "practice_field", "field_name": "practice_address"},
    )
    sheet, pdf = create(template, patient)
    assert sheet.content == [
        "Zoë A Brun",
        "12 Harbor Lane",
        "Apt 2",
        "Portland, ME 04101",
        "Goes by",
        "Born 1984-03-12",
        "Phone 207-555-0101",
        patient.email,
        "Harbor Family Dental",
        "1 Main St",
        "Portland, ME 04101",
    ]
    assert "Zoë A Brun" in pdf_text(pdf)


def test_dashboard_refuses_the_tag(practice, make_template):
    with pytest.raises(Refused) as refused:
        make_template("Hello", f"Login: {TAG}", kind="dashboard")
    assert refused.value.messages == [MSG_TAG_IN_DASHBOARD]
    assert not SheetTemplate.objects.exists()


def test_dashboard_accepts_the_words_in_another_case(practice, make_template):
    template = make_template("[PatientPortalCredentials]", kind="dashboard")
    assert template.kind == "dashboard"


def test_letter_holding_the_tag_cannot_become_a_dashboard(practice, welcome_letter):
    with pytest.raises(Refused) as refused:
        sheet_template_update(template=welcome_letter, actor=ACTOR, kind="dashboard")
    assert refused.value.messages == [MSG_TAG_IN_DASHBOARD]
    welcome_letter.refresh_from_db()
    assert welcome_letter.kind == "letter"


def test_tag_cannot_be_added_to_a_dashboard(practice, make_template):
    dashboard = make_template("Hello", kind="dashboard")
    with pytest.raises(Refused) as refused:
        sheet_template_update(template=dashboard, actor=ACTOR, fields=[{"kind": "static_text", "text": TAG}])
    assert refused.value.messages == [MSG_TAG_IN_DASHBOARD]
    assert [f.text for f in dashboard.fields.all()] == ["Hello"]


def test_dashboard_holding_the_tag_anyway_makes_no_sheet(practice, complete_patient, make_template):
    """A row written around the services (e.g. an import) is still refused."""
    template = make_template(TAG)
    SheetTemplate.objects.filter(pk=template.pk).update(kind="dashboard")
    with pytest.raises(Refused) as refused:
        create(template, complete_patient)
    assert refused.value.messages == [MSG_TAG_IN_DASHBOARD]
    assert not PortalAccount.objects.exists() and not Sheet.objects.exists()


def test_stored_sheet_never_holds_the_password_and_reprint_shows_asterisks(
    practice, complete_patient, welcome_letter
):
    sheet, pdf = create(welcome_letter, complete_patient)
    password = printed_password(pdf)
    sheet.refresh_from_db()
    assert "Password: ********" in sheet.content
    reprint = sheet_reprint(sheet=sheet, actor=ACTOR)
    assert printed_password(reprint) == "********" and password not in pdf_text(reprint)
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert password not in dump.getvalue()
    assert AuditEvent.objects.filter(action="sheet_reprinted", patient_id=complete_patient.pk).exists()


def test_deleted_template_leaves_its_sheets_printable(practice, complete_patient, welcome_letter):
    sheet, _ = create(welcome_letter, complete_patient)
    sheet_template_delete(template=welcome_letter, actor=ACTOR)
    sheet.refresh_from_db()
    assert sheet.template is None and sheet.template_name == "Welcome letter"
    assert "Welcome letter" in pdf_text(sheet_reprint(sheet=sheet, actor=ACTOR))


def test_every_template_problem_is_listed(practice, make_template):
    with pytest.raises(Refused) as refused:
        make_template(
            " ",
            {"kind": "patient_field", "field_name": "password"},
            {"kind": "practice_field"},
            {"kind": "nonsense"},
            name=" ",
            kind="memo",
        )
    assert refused.value.messages == [
        "Name cannot be blank.",
        "Kind must be letter, form or dashboard.",
        "Field 1: static text cannot be blank.",
        "Field 2: 'password' is not a patient field; choose one of first_name, middle_name, "
        "last_name, preferred_name, full_name, birth_date, address, phone, email.",
        "Field 3: choose which practice field to show.",
        "Field 4: kind must be static text, patient field or practice field.",
    ]


def test_long_sheet_continues_on_more_pages(practice, complete_patient, make_template):
    template = make_template("\n".join(f"Line {n}" for n in range(120)))
    _, pdf = create(template, complete_patient)
    text = pdf_text(pdf)
    assert "Line 0" in text and "Line 119" in text and "Page 2" in text
