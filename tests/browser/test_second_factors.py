"""SPEC K2 in real Chromium: staff enroll a passkey (DevTools' virtual
authenticator over a CDP session) and sign in with it; staff enroll an
authenticator app (the code computed here from the shown secret) and sign
in with it; a recovery code works once; a patient adds a passkey from
Profile and signs in with it."""

import time

import pyotp
import pytest
from playwright.sync_api import expect

from molar.access.services import access_provide
from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.factors.models import SecondFactor
from molar.practice.models import PracticeSettings
from molar.staffauth.accounts import staff_add

pytestmark = pytest.mark.browser

PATIENT_PASSWORD = "Tidepool-Kettle-47"


@pytest.fixture
def two_factor_required(transactional_db):
    PracticeSettings.objects.filter(pk=1).update(require_staff_two_factor=True, require_admin_two_factor=True)
    PracticeSettings.forget_cached()


def virtual_authenticator(page) -> None:
    """A platform authenticator with user verification, as a phone or laptop has."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def staff_password_step(page, username: str, password: str) -> None:
    page.goto("/staff/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def staff_sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()


def recovery_codes(page) -> list[str]:
    return page.locator("#recovery-codes code").all_inner_texts()


def test_staff_enroll_a_passkey_after_the_password_and_sign_in_with_it(page, two_factor_required):
    password = staff_add(username="admin", admin=True, actor=Actor.system("test"))
    virtual_authenticator(page)
    staff_password_step(page, "admin", password)
    expect(page.get_by_text("The practice requires two-factor sign-in")).to_be_visible()
    page.get_by_role("link", name="Passkey").click()
    page.get_by_label("Name").fill("Front office PC")
    page.get_by_role("button", name="Create passkey").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    assert len(recovery_codes(page)) == 10
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    staff_sign_out(page)

    staff_password_step(page, "admin", password)
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    page.get_by_role("button", name="Use passkey").click()
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    factor = SecondFactor.objects.get()
    assert factor.kind == "passkey" and factor.name == "Front office PC" and factor.last_used_at
    assert AuditEvent.objects.filter(action="staff_sign_in", detail__second_factor="passkey").count() == 1


def test_staff_enroll_an_authenticator_app_and_sign_in_with_a_code_then_a_recovery_code(
    page, two_factor_required
):
    password = staff_add(username="frontdesk", admin=False, actor=Actor.system("test"))
    staff_password_step(page, "frontdesk", password)
    page.get_by_role("link", name="Authenticator app").click()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("The 6-digit code the app shows now").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Add authenticator app").click()
    codes = recovery_codes(page)
    assert len(codes) == 10
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    staff_sign_out(page)

    staff_password_step(page, "frontdesk", password)
    # The next time step's code (one step of drift is allowed): the enrollment code's step is used up.
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    staff_sign_out(page)

    for attempt in range(2):
        staff_password_step(page, "frontdesk", password)
        page.get_by_label("Code from your authenticator app").fill(codes[0])
        page.get_by_role("button", name="Verify").click()
        if attempt == 0:
            expect(page.get_by_role("heading", name="Patients")).to_be_visible()
            staff_sign_out(page)
        else:
            expect(page.get_by_role("alert")).to_contain_text("not accepted")
    used = AuditEvent.objects.filter(action="staff_sign_in", outcome="success").values_list(
        "detail__second_factor", flat=True
    )
    assert sorted(used) == ["enrolled", "recovery_code", "totp"]


def test_a_patient_adds_a_passkey_and_signs_in_with_it(page, portal_practice, complete_patient, live_server):
    creds = access_provide(patient=complete_patient, actor=Actor.system("test"))
    virtual_authenticator(page)
    page.goto("/portal/")
    page.get_by_label("User Name", exact=True).fill(creds.username)
    page.get_by_label("Password").fill(creds.password)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_label("New password", exact=True).fill(PATIENT_PASSWORD)
    page.get_by_label("New password again").fill(PATIENT_PASSWORD)
    page.get_by_role("button", name="Save Password").click()
    page.goto("/portal/profile/")
    page.get_by_role("link", name="Add a passkey").click()
    page.get_by_label("Name").fill("My phone")
    page.get_by_role("button", name="Create passkey").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    page.get_by_role("link", name="Continue").click()
    expect(page.locator("#sign-in-methods")).to_contain_text("Passkey: My phone")
    page.get_by_role("button", name="Sign Out").click()

    page.get_by_label("User Name", exact=True).fill(creds.username)
    page.get_by_label("Password").fill(PATIENT_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Two-step sign-in")).to_be_visible()
    page.get_by_role("button", name="Use passkey").click()
    expect(page.get_by_role("button", name="Sign Out")).to_be_visible()
    assert "/portal/sign-in/second-step/" not in page.url
    event = AuditEvent.objects.filter(action="sign_in", outcome="success").order_by("id").last()
    assert event.detail == {"second_factor": "passkey"} and event.patient_id == complete_patient.pk
