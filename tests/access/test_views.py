"""The Patient Portal Access page (SPEC section 4) as staff use it."""

import re

import pytest

from molar.access.models import PortalAccount
from molar.audit.models import AuditEvent


def url(patient, action=""):
    return f"/staff/patients/{patient.pk}/portal-access/{action + '/' if action else ''}"


def shown_password(response) -> str:
    match = re.search(r'id="online-password" class="secret">([^<]*)<', response.content.decode())
    return match.group(1) if match else ""


def errors(response) -> list[str]:
    block = re.search(r'<ul class="errorlist"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1)) if block else []


def test_anonymous_is_sent_to_sign_in(browser_client, complete_patient):
    response = browser_client.get(url(complete_patient))
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_staff_without_permission_gets_403_and_an_audit_row(clerk_client, complete_patient):
    response = clerk_client.get(url(complete_patient))
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="permission_denied")
    assert event.outcome == "denied" and event.patient_id == complete_patient.pk
    assert event.detail["permission"] == "access.manage_portal_access"


def test_staff_without_permission_cannot_post_actions(clerk_client, practice, complete_patient):
    for action in ("provide", "generate", "remove", "print", "username", "password"):
        assert clerk_client.submit(url(complete_patient, action)).status_code == 403
    assert not PortalAccount.objects.exists()


def test_page_shows_every_control(desk_client, practice, complete_patient):
    page = desk_client.get(url(complete_patient)).content.decode()
    for control in (
        "Setup",
        "Provide Online Access",
        "Patient Facing URL",
        practice.patient_facing_url,
        ">Open<",
        "Online Username",
        "Online Password",
        "Generate New",
        ">Print<",
    ):
        assert control in page


def test_unknown_patient_is_404(desk_client, db):
    assert desk_client.get("/staff/patients/999999/portal-access/").status_code == 404


def test_post_without_csrf_token_is_refused(desk_client, practice, complete_patient):
    assert desk_client.post(url(complete_patient, "provide")).status_code == 403
    assert not PortalAccount.objects.exists()


def test_provide_shows_password_once_then_asterisks(desk_client, practice, complete_patient):
    response = desk_client.submit(url(complete_patient, "provide"), follow=True)
    password = shown_password(response)
    assert len(password) == 8
    assert "no-store" in response["Cache-Control"]
    assert "Remove Online Access" in response.content.decode()
    again = desk_client.get(url(complete_patient))
    assert shown_password(again) == "********"
    assert password not in again.content.decode()


def test_provide_lists_missing_fields(desk_client, practice, make_patient):
    patient = make_patient(email="", city="")
    response = desk_client.submit(url(patient, "provide"), follow=True)
    assert errors(response) == ["Missing patient city.", "Missing patient email."]
    assert shown_password(response) == ""


def test_provide_with_portal_off_says_so(desk_client, practice, complete_patient):
    practice.portal_enabled = False
    practice.save()
    response = desk_client.submit(url(complete_patient, "provide"), follow=True)
    assert errors(response) == ["Patient Portal is not enabled. Turn it on in eServices Setup."]


def test_generate_new_without_access_asks_for_provide_first(desk_client, practice, complete_patient):
    response = desk_client.submit(url(complete_patient, "generate"), follow=True)
    assert errors(response) == ["Please use the Provide Online Access button first."]


def test_generate_new_shows_a_new_password(desk_client, practice, complete_patient):
    first = shown_password(desk_client.submit(url(complete_patient, "provide"), follow=True))
    second = shown_password(desk_client.submit(url(complete_patient, "generate"), follow=True))
    assert len(second) == 8 and second != first
    account = PortalAccount.objects.get()
    assert account.check_password(second) and not account.check_password(first)


def test_typed_password_refused_with_policy_messages(desk_client, practice, complete_patient):
    desk_client.submit(url(complete_patient, "provide"), follow=True)
    response = desk_client.submit(url(complete_patient, "password"), {"password": "qwzxkvbnrt"}, follow=True)
    assert errors(response) == [
        "Password must contain an uppercase letter.",
        "Password must contain a digit.",
    ]


def test_typed_password_set_and_printable(desk_client, practice, complete_patient):
    desk_client.submit(url(complete_patient, "provide"), follow=True)
    response = desk_client.submit(url(complete_patient, "password"), {"password": "Tide7Pool"}, follow=True)
    assert shown_password(response) == "Tide7Pool"
    pdf = desk_client.submit(url(complete_patient, "print"), {"password": "Tide7Pool"}, follow=True)
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_rename_messages(desk_client, practice, make_patient):
    ana, ben = make_patient(first_name="Ana"), make_patient(first_name="Ben")
    desk_client.submit(url(ana, "provide"), follow=True)
    desk_client.submit(url(ben, "provide"), follow=True)
    taken = PortalAccount.objects.get(patient=ana).username
    assert errors(desk_client.submit(url(ben, "username"), {"username": ""}, follow=True)) == [
        "Online Username cannot be blank."
    ]
    assert errors(desk_client.submit(url(ben, "username"), {"username": taken.lower()}, follow=True)) == [
        "The Online Username already exists."
    ]
    desk_client.submit(url(ben, "username"), {"username": "BenL"}, follow=True)
    assert PortalAccount.objects.get(patient=ben).username == "BenL"


def test_print_without_password_on_screen_is_refused(desk_client, practice, complete_patient):
    desk_client.submit(url(complete_patient, "provide"), follow=True)
    response = desk_client.submit(url(complete_patient, "print"), {"password": ""}, follow=True)
    assert errors(response) == ["Password required. Please generate a new password."]


def test_print_with_wrong_password_prints_nothing(desk_client, practice, complete_patient):
    desk_client.submit(url(complete_patient, "provide"), follow=True)
    response = desk_client.submit(url(complete_patient, "print"), {"password": "Guess7Me"}, follow=True)
    assert response["Content-Type"].startswith("text/html")
    assert errors(response)[0].startswith("The password does not match")


def test_remove_asks_for_confirmation_first(desk_client, practice, complete_patient):
    desk_client.submit(url(complete_patient, "provide"), follow=True)
    confirm = desk_client.submit(url(complete_patient, "remove"), follow=True)
    assert "Yes, remove online access" in confirm.content.decode()
    assert PortalAccount.objects.get().has_access
    done = desk_client.submit(url(complete_patient, "remove"), {"confirm": "yes"}, follow=True)
    assert "Provide Online Access" in done.content.decode()
    assert not PortalAccount.objects.get().has_access


def test_page_warns_before_leaving_unprinted_credentials(desk_client, practice, complete_patient):
    page = desk_client.submit(url(complete_patient, "provide"), follow=True).content.decode()
    assert 'data-unprinted="true"' in page and "access.js" in page
    assert 'data-unprinted="true"' not in desk_client.get(url(complete_patient)).content.decode()


def test_back_link_returns_to_a_local_page_only(desk_client, practice, complete_patient):
    page = desk_client.get(url(complete_patient) + "?next=/staff/patients/").content.decode()
    assert 'href="/staff/patients/"' in page
    page = desk_client.get(url(complete_patient) + "?next=https://evil.example/").content.decode()
    assert "evil.example" not in page


@pytest.mark.parametrize("field", ["username", "password"])
def test_overlong_input_gets_a_message_not_an_error(desk_client, practice, complete_patient, field):
    desk_client.submit(url(complete_patient, "provide"), follow=True)
    response = desk_client.submit(url(complete_patient, field), {field: "A1a" * 10_000}, follow=True)
    assert response.status_code == 200 and errors(response)


def test_saving_a_username_never_shows_the_hash(desk_client, practice, complete_patient):
    desk_client.submit(url(complete_patient, "provide"), follow=True)
    response = desk_client.submit(url(complete_patient, "username"), {"username": "MariaL"}, follow=True)
    page = response.content.decode()
    account = PortalAccount.objects.get()
    assert shown_password(response) == "********"
    assert account.password not in page and "md5$" not in page
    assert 'data-unprinted="true"' not in page
