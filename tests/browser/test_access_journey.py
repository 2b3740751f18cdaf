"""The front desk's Patient Portal Access journey in a real browser (SPEC S4, W1-W4, W7, W8).

Staff sign in through the real login page, open a chart from the patient list,
follow its Patient Portal row, and grant, print, renew and remove access."""

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from molar.access.credentials import ALPHABET
from molar.access.models import PortalAccount
from molar.access.services import access_provide
from molar.audit.services import Actor
from tests.conftest import PORTAL_URL

pytestmark = pytest.mark.browser

# SPEC C1: 8 characters, no look-alikes.
ONE_TIME_PASSWORD = re.compile(rf"^[{ALPHABET}]{{8}}$")


@pytest.fixture
def dialogs(page):
    """Accept every dialog (the W8 leave warning among them) and record its type."""
    seen = []

    def accept(dialog):
        seen.append(dialog.type)
        dialog.accept()

    page.on("dialog", accept)
    return seen


def open_chart(page, patient):
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Patients").click()
    page.get_by_role("link", name=f"{patient.last_name}, {patient.first_name}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(patient.full_name)


def portal_row(page):
    return page.get_by_role("row", name="Patient Portal").get_by_role("link")


def open_access_page(page, patient):
    open_chart(page, patient)
    portal_row(page).click()
    expect(page.get_by_role("heading", name="Patient Portal Access")).to_be_visible()


def shown_password(page) -> str:
    password = page.locator("#online-password")
    expect(password).to_have_text(ONE_TIME_PASSWORD)
    return password.inner_text()


def print_letter(page) -> bytes:
    """Click Print: the letter opens in a new tab, inline (Chromium's PDF
    viewer shows it); returns the PDF as the server sent it."""
    seen = []

    def keep(route):
        response = route.fetch()
        seen.append((response.headers, response.body()))
        route.fulfill(response=response)

    page.context.route("**/print/", keep)
    with page.context.expect_page() as tab:
        page.get_by_role("button", name="Print").click()
    tab.value.wait_for_load_state()
    page.context.unroute("**/print/", keep)
    headers, data = seen[0]
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"].startswith("inline;")
    tab.value.close()
    return data


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_incomplete_patient_sees_every_missing_field(signed_in_page, dialogs, portal_practice, make_patient):
    page = signed_in_page
    patient = make_patient(city="", wireless_phone="", email="")
    open_chart(page, patient)
    expect(portal_row(page)).to_have_text("No access")
    portal_row(page).click()

    # SPEC V8: the problems are listed before anyone clicks, each a link to
    # its field, and Provide is disabled until they are fixed.
    problems = page.locator("#not-ready").get_by_role("listitem")
    expect(problems).to_have_text(
        [
            "Missing patient city.",
            "Missing patient phone. Must have home, wireless, or work phone.",
            "Missing patient email.",
        ]
    )
    expect(page.get_by_role("button", name="Provide Online Access")).to_be_disabled()
    page.get_by_role("link", name="Missing patient email.").click()
    expect(page.get_by_label("Email")).to_be_focused()
    assert not PortalAccount.objects.filter(patient=patient).exists()
    assert dialogs == []


def test_provide_print_generate_new_and_remove(
    signed_in_page, dialogs, portal_practice, complete_patient, make_patient
):
    page = signed_in_page
    make_patient(first_name="Other")  # the list holds more than our patient
    open_access_page(page, complete_patient)

    # SPEC W1: a one-time password, shown once, stored only as a hash.
    page.get_by_role("button", name="Provide Online Access").click()
    expect(page.get_by_text("Online access provided.")).to_be_visible()
    first_password = shown_password(page)
    username = page.get_by_label("Online Username").input_value()
    account = PortalAccount.objects.get(patient=complete_patient)
    assert account.username == username
    assert account.check_password(first_password)
    assert account.require_password_change
    assert first_password not in account.password

    # SPEC W7, V8: a one-page PDF letter with the credentials on screen,
    # opened in a new tab (inline), ready to print.
    data = print_letter(page)
    assert data.startswith(b"%PDF")
    pages, text = pdf_text(data)
    assert pages == 1
    for expected in ("Online Access", PORTAL_URL, username, first_password):
        assert expected in text

    # SPEC S4: the chart row now reads Online; W4: back on the page, only asterisks.
    page.get_by_role("link", name="Back").click()
    expect(portal_row(page)).to_have_text("Online")
    portal_row(page).click()
    expect(page.locator("#online-password")).to_have_text("********")

    # SPEC W3: a different password; the old one stops working at once.
    page.get_by_role("button", name="Generate New").click()
    expect(page.get_by_text("New password generated. The old one no longer works.")).to_be_visible()
    second_password = shown_password(page)
    assert second_password != first_password
    account.refresh_from_db()
    assert account.check_password(second_password)
    assert not account.check_password(first_password)

    # SPEC W2: removal asks for confirmation, then the chart says No access.
    page.get_by_role("button", name="Remove Online Access").click()
    expect(page.get_by_role("heading", name="Remove online access?")).to_be_visible()
    page.get_by_role("button", name="Yes, remove online access").click()
    expect(page.get_by_text("Online access removed.")).to_be_visible()
    expect(page.get_by_role("button", name="Provide Online Access")).to_be_visible()
    account.refresh_from_db()
    assert not account.has_access
    assert account.username == username  # SPEC A2: the username is kept
    page.get_by_role("link", name="Back").click()
    expect(portal_row(page)).to_have_text("No access")

    # Printing and the page's own buttons never set off the leave warning.
    assert dialogs == []


@pytest.fixture
def patient_with_access(portal_practice, complete_patient):
    access_provide(patient=complete_patient, actor=Actor.system("test"))
    return complete_patient


def test_leaving_after_generate_new_without_printing_warns(signed_in_page, dialogs, patient_with_access):
    page = signed_in_page
    open_access_page(page, patient_with_access)
    page.get_by_role("button", name="Generate New").click()
    shown_password(page)
    assert dialogs == []

    page.goto(patient_with_access.get_absolute_url())

    assert dialogs == ["beforeunload"]
    expect(portal_row(page)).to_have_text("Online")


def test_leaving_after_printing_does_not_warn(signed_in_page, dialogs, patient_with_access):
    page = signed_in_page
    open_access_page(page, patient_with_access)
    page.get_by_role("button", name="Generate New").click()
    shown_password(page)
    print_letter(page)

    page.goto(patient_with_access.get_absolute_url())

    expect(portal_row(page)).to_have_text("Online")
    assert dialogs == []
