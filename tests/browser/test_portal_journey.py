"""The patient's side of portal access in a real browser (issue 3, items 1, 2, 5, 6, 11).

Staff hand out a one-time password on the Patient Portal Access page; the
patient, in a browser of their own, opens the Patient Facing URL, replaces the
password, takes the username offer, sees an appointment, signs out and back
in. Then the lock (SPEC L6) and staff's Generate New (SPEC W3) that lifts it,
and a copied session cookie that Generate New kills (SPEC L5)."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from molar.access.credentials import ALPHABET
from molar.access.models import PortalAccount
from molar.access.services import access_provide
from molar.audit.services import Actor
from molar.patients.models import Provider
from molar.patients.services import appointment_save
from molar.portal.services import SIGN_IN_FAILED

pytestmark = pytest.mark.browser

ONE_TIME_PASSWORD = re.compile(rf"^[{ALPHABET}]{{8}}$")
NEW_PASSWORD = "Tidepool-Kettle-47"
NEW_USERNAME = "harbor.smiles"
REFUSED_OTP_AS_NEW = "Choose a password different from the one-time password."


@pytest.fixture
def portal_url(portal_practice, live_server):
    """The Patient Facing URL is this server's own portal (SPEC S2: http is fine locally)."""
    portal_practice.patient_facing_url = f"{live_server.url}/portal/"
    portal_practice.full_clean()
    portal_practice.save()
    return portal_practice.patient_facing_url


@pytest.fixture
def staff_page(signed_in_page):
    """The signed-in staff page, accepting every dialog (SPEC W8's leave warning)."""
    signed_in_page.on("dialog", lambda dialog: dialog.accept())
    return signed_in_page


def access_url(patient) -> str:
    return f"/staff/patients/{patient.pk}/portal-access/"


def shown_password(page) -> str:
    password = page.locator("#online-password")
    expect(password).to_have_text(ONE_TIME_PASSWORD)
    return password.inner_text()


def sign_in(page, username: str, password: str) -> None:
    page.get_by_label("User Name", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():  # the answer to this POST, not the page before it
        page.get_by_role("button", name="Sign In").click()


def sign_in_error(page) -> str:
    errors = page.locator("#errors")
    expect(errors).to_be_visible()
    return errors.inner_text()


def expect_sign_in_page(page) -> None:
    expect(page.get_by_role("button", name="Sign In")).to_be_visible()
    assert re.search(r"/portal/(\?.*)?$", page.url), page.url


def set_new_password(page, password: str) -> None:
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("New password again").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Save Password").click()


def expect_new_password_page(page) -> None:
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert page.url.endswith("/portal/password/new/")


@pytest.fixture
def appointment(complete_patient):
    """An upcoming visit staff entered before the patient ever signed in."""
    provider = Provider.objects.create(name="Dr. Ana Reyes", abbreviation="AR")
    start = (timezone.localtime() + datetime.timedelta(days=9)).replace(
        hour=10, minute=30, second=0, microsecond=0
    )
    return appointment_save(
        patient=complete_patient,
        actor=Actor.system("test"),
        start=start,
        duration_minutes=45,
        provider=provider,
        status="scheduled",
    )


def test_patient_journey_from_one_time_password_to_lock_and_generate_new(
    staff_page, new_context, portal_url, complete_patient, appointment
):
    staff = staff_page

    # Staff: SPEC W1 on the access page; the password is shown once.
    staff.goto(access_url(complete_patient))
    staff.get_by_role("button", name="Provide Online Access").click()
    one_time = shown_password(staff)
    username = staff.get_by_label("Online Username").input_value()
    expect(staff.locator("#patient-facing-url")).to_have_text(portal_url)

    # Patient, in a browser of their own: the Patient Facing URL is the sign-in
    # page (L1); the username works in another letter case.
    patient = new_context().new_page()
    patient.goto(portal_url)
    expect_sign_in_page(patient)
    expect(patient.get_by_label("Remember User Name")).to_be_visible()
    for link in ("Forgot Password", "Contact Us"):
        expect(patient.get_by_role("link", name=link)).to_be_visible()
    assert username.swapcase() != username
    sign_in(patient, username.swapcase(), one_time)

    # L2: only the set-new-password page, and not to the one-time password again.
    expect_new_password_page(patient)
    expect(patient.get_by_role("link", name="Appointments")).to_have_count(0)
    patient.goto("/portal/appointments/")
    expect_new_password_page(patient)
    set_new_password(patient, one_time)
    expect(patient.get_by_role("alert")).to_contain_text(REFUSED_OTP_AS_NEW)
    expect_new_password_page(patient)

    set_new_password(patient, NEW_PASSWORD)

    # U2: the username offer, once.
    expect(patient.get_by_role("heading", name="Would you like a different user name?")).to_be_visible()
    expect(patient.get_by_text(f"Your user name is {username}.")).to_be_visible()
    patient.get_by_label("New user name").fill(NEW_USERNAME)
    patient.get_by_role("button", name="Change User Name").click()

    # Home (SPEC V2), then Appointments (issue 3 item 8): the visit staff entered.
    expect(patient.get_by_role("heading", name=re.compile(r"^Hello, "), level=1)).to_be_visible()
    expect(patient.get_by_text("Your user name is changed.")).to_be_visible()
    expect(patient.locator("#next-h + p")).to_contain_text(str(timezone.localtime(appointment.start).year))
    patient.get_by_role("navigation", name="Portal").get_by_role("link", name="Appointments").click()
    expect(patient.get_by_role("heading", name="Appointments", level=1)).to_be_visible()
    start = timezone.localtime(appointment.start)
    upcoming = patient.get_by_role("table", name="Upcoming appointments")
    row = upcoming.get_by_role("row").filter(has_text="Dr. Ana Reyes")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"{start:%A, %B} {start.day}, {start.year}")
    expect(row).to_contain_text(f"{start.hour % 12 or 12}:{start:%M %p}")
    expect(row).to_contain_text("Scheduled")
    patient.goto("/portal/username/")  # offered once: now it goes home
    expect(patient.get_by_role("heading", name=re.compile(r"^Hello, "), level=1)).to_be_visible()
    account = PortalAccount.objects.get(patient=complete_patient)
    assert account.username == NEW_USERNAME
    assert not account.require_password_change

    # L4: sign out, then in again with the new name and password.
    patient.get_by_role("button", name="Sign Out").click()
    expect_sign_in_page(patient)
    expect(patient.get_by_text("You are signed out.")).to_be_visible()
    patient.goto("/portal/appointments/")
    expect_sign_in_page(patient)
    sign_in(patient, NEW_USERNAME, NEW_PASSWORD)
    expect(patient.get_by_role("heading", name="Appointments", level=1)).to_be_visible()  # where it was going
    patient.get_by_role("button", name="Sign Out").click()
    expect_sign_in_page(patient)

    # L6: ten wrong passwords lock the username; the right one is then refused
    # with the very same words (L1: one message for every failure).
    wrong_messages = set()
    for attempt in range(10):
        sign_in(patient, NEW_USERNAME, f"Wrong-Guess-{attempt}")
        wrong_messages.add(sign_in_error(patient))
    sign_in(patient, NEW_USERNAME, NEW_PASSWORD)
    locked_message = sign_in_error(patient)
    expect_sign_in_page(patient)
    assert wrong_messages == {SIGN_IN_FAILED}
    assert locked_message == SIGN_IN_FAILED

    # Staff see the lock, and Generate New lifts it (W3, L6).
    staff.goto(access_url(complete_patient))  # leaves the unprinted password: dialog accepted
    expect(staff.locator("#lock")).to_contain_text("Sign-in locked.")
    staff.get_by_role("button", name="Generate New").click()
    expect(staff.get_by_text("New password generated. The old one no longer works.")).to_be_visible()
    renewed = shown_password(staff)
    assert renewed != one_time
    expect(staff.get_by_text("Sign-in locked")).to_have_count(0)

    # The old password is gone; the new one-time password opens the restricted session.
    sign_in(patient, NEW_USERNAME, NEW_PASSWORD)
    assert sign_in_error(patient) == SIGN_IN_FAILED
    sign_in(patient, NEW_USERNAME.upper(), renewed)
    expect_new_password_page(patient)


@pytest.fixture
def patient_signed_in(new_context, portal_url, complete_patient):
    """A patient context past the first sign-in, on the Appointments page."""
    credentials = access_provide(patient=complete_patient, actor=Actor.system("test"))
    page = new_context().new_page()
    page.goto(portal_url)
    sign_in(page, credentials.username, credentials.password)
    set_new_password(page, NEW_PASSWORD)
    page.get_by_role("button", name=f"Keep {credentials.username}").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "), level=1)).to_be_visible()
    return page


def test_copied_session_cookie_stops_working_after_generate_new(
    staff_page, new_context, patient_signed_in, complete_patient
):
    staff = staff_page
    staff.goto(access_url(complete_patient))
    copy = new_context()
    copy.add_cookies(patient_signed_in.context.cookies())
    copied = copy.new_page()
    copied.goto("/portal/appointments/")
    expect(copied.get_by_role("heading", name="Appointments", level=1)).to_be_visible()

    staff.get_by_role("button", name="Generate New").click()
    shown_password(staff)

    # SPEC L5: Generate New ends sessions at once, the copy included.
    copied.goto("/portal/appointments/")
    expect_sign_in_page(copied)
    assert "next=%2Fportal%2Fappointments%2F" in copied.url
    patient_signed_in.goto("/portal/appointments/")
    expect_sign_in_page(patient_signed_in)
