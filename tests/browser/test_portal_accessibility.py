"""Issue 6, item 5: every portal page passes axe-core (no serious or critical
violations) in Chromium, works with the keyboard alone, and shows dates in
the browser's locale.

The patient has something on every tab, so the scans see filled tables and
forms, not only "nothing yet" rows; the parent also has a child by guardian
link, so every signed-in page carries the family switcher."""

import datetime
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from molar.access.activation import activation_issue
from molar.access.models import PortalAccount
from molar.access.services import access_provide
from molar.audit.services import Actor
from molar.portal.services import portal_password_change, portal_username_offer_done

pytestmark = pytest.mark.browser

STAFF = Actor.system("test")
PASSWORD = "Tidepool-Kettle-47"
BLOCKING = {"serious", "critical"}
TABS = ["Appointments", "Account", "Treatment Plan", "Messages", "Health Summary", "Documents"]
PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
AXE = Axe()


# --- Helpers ---------------------------------------------------------------------------


def axe_problems(page) -> list[str]:
    """Serious and critical axe-core violations of the page as it is now, one
    readable line per failing element."""
    results = AXE.run(page)
    problems = []
    for violation in results.response["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        for node in violation["nodes"]:
            problems.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']} "
                f"at {node['target']}: {node.get('failureSummary', '')}"
            )
    return problems


def scan(page, label: str, found: dict) -> None:
    """Scan after portal.js ran; collect problems by page so one run reports every page."""
    page.wait_for_load_state("load")
    problems = axe_problems(page)
    if problems:
        found[f"{label} ({page.url})"] = problems


def unexplained_invalid_fields(page) -> list[str]:
    """Fields marked aria-invalid whose aria-describedby does not lead to their error text."""
    return page.evaluate("""() => [...document.querySelectorAll("[aria-invalid=true]")].filter(el => {
        const ids = (el.getAttribute("aria-describedby") || "").split(/\\s+/).filter(Boolean);
        const texts = ids.map(id => document.getElementById(id)).filter(Boolean)
                         .map(node => node.textContent.trim());
        return ids.length === 0 || texts.length !== ids.length || !texts.some(Boolean);
    }).map(el => el.id)""")


def report(found: dict) -> str:
    return "\n".join(f"{page}:\n  " + "\n  ".join(lines) for page, lines in found.items())


def sign_in(page, username: str, password: str) -> None:
    page.get_by_label("User Name", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign In").click()


def own_password(patient) -> str:
    """Portal access with the patient's own password, set through the services
    (no one-time password, no username offer); returns the username."""
    credentials = access_provide(patient=patient, actor=STAFF)
    account = PortalAccount.objects.get(patient=patient)
    account = portal_password_change(account=account, new=PASSWORD, confirm=PASSWORD)
    portal_username_offer_done(account=account)
    return credentials.username


def in_practice_zone(*args) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args), timezone.get_current_timezone())


# --- axe-core on every page ------------------------------------------------------------


def test_pages_before_sign_in_have_no_serious_axe_violations(new_context, portal_practice, make_patient):
    page = new_context().new_page()
    found: dict = {}
    for path, label in [
        ("/portal/", "Sign In"),
        ("/portal/forgot/", "Forgot Password"),
        ("/portal/reset/", "Reset Password"),
        ("/portal/contact/", "Contact Us"),
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Patient Portal" if label == "Sign In" else label
        )
        scan(page, label, found)

    # The sign-in and reset pages with their error messages shown.
    page.goto("/portal/")
    sign_in(page, "nobody-here", "Wrong-Guess-1")
    expect(page.get_by_role("alert")).to_be_visible()
    scan(page, "Sign In, refused", found)
    page.goto("/portal/reset/")
    with page.expect_navigation():
        page.get_by_role("button", name="Reset Password").click()
    scan(page, "Reset Password, with errors", found)
    # Each field's error is tied to it, so a screen reader reads it with the field.
    expect(page.locator("[aria-invalid=true]")).to_have_count(4)
    assert unexplained_invalid_fields(page) == []

    # A flash message: the reset page after a code was asked for.
    page.goto("/portal/forgot/")
    page.get_by_label("User Name").fill("nobody-here")
    with page.expect_navigation():
        page.get_by_role("button", name="Email Me a Code").click()
    expect(page.get_by_role("status")).to_contain_text("reset code is on its way")
    scan(page, "Reset Password, after asking for a code", found)

    # Activation: a valid link's page, then a link that does not work.
    invited = make_patient(first_name="Iris")
    access_provide(patient=invited, actor=STAFF)
    token = activation_issue(PortalAccount.objects.get(patient=invited))
    page.goto(f"/portal/activate/{token}/")
    expect(page.get_by_role("heading", name="Set your password")).to_be_visible()
    scan(page, "Activation", found)
    page.goto("/portal/activate/not-a-real-token/")
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    scan(page, "Activation link not valid", found)

    assert not found, "axe-core found serious or critical violations:\n" + report(found)


def test_signed_in_pages_have_no_serious_axe_violations(new_context, full_patient, child, thread):
    credentials = access_provide(patient=full_patient, actor=STAFF)
    chat = thread()
    page = new_context().new_page()
    found: dict = {}

    # The one-time password opens only the set-new-password page (SPEC L2),
    # then comes the username offer (SPEC U2).
    page.goto("/portal/")
    sign_in(page, credentials.username, credentials.password)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    scan(page, "Set new password", found)
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("New password again").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Save Password").click()
    expect(page.get_by_role("heading", name="Would you like a different user name?")).to_be_visible()
    scan(page, "Username offer", found)
    with page.expect_navigation():
        page.get_by_role("button", name=f"Keep {credentials.username}").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "), level=1)).to_be_visible()
    scan(page, "Home", found)

    # Every tab, with the family switcher in the header (a parent with a child).
    nav = page.get_by_role("navigation", name="Portal")

    def open_tab(name: str) -> None:
        with page.expect_navigation():  # "Messages 1 unread" is the Messages tab too
            nav.get_by_role("link", name=re.compile(rf"^{re.escape(name)}( \d+ unread)?$")).click()

    for tab in TABS:
        open_tab(tab)
        expect(page.get_by_role("heading", name=tab, level=1)).to_be_visible()
        expect(page.get_by_label("Showing")).to_be_visible()
        scan(page, tab, found)
    expect(page.get_by_role("link", name="X-ray report")).to_be_visible()

    page.goto(f"/portal/messages/{chat.pk}/")
    expect(page.get_by_text("Come in on Tuesday.")).to_be_visible()
    scan(page, "Message thread", found)
    page.goto("/portal/messages/")
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()  # blank: the errors are shown
    expect(page.get_by_role("alert").first).to_be_visible()
    scan(page, "Messages, with errors", found)
    for name in ("Profile", "Access History"):
        open_tab(name)
        expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
        scan(page, name, found)

    # The switcher's other state: the parent looking at the child.
    page.get_by_label("Showing").select_option(str(child.pk))
    with page.expect_navigation():
        page.get_by_role("button", name="Switch").click()
    for tab in ("Appointments", "Health Summary"):
        open_tab(tab)
        expect(page.locator("main p", has_text=child.full_name)).to_be_visible()
        scan(page, f"{tab}, showing the child", found)

    page.goto("/portal/messages/999999/")  # what a wrong id shows
    scan(page, "Not found", found)

    page.goto("/portal/profile/")
    page.get_by_role("button", name="Sign Out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    scan(page, "Signed out", found)

    assert not found, "axe-core found serious or critical violations:\n" + report(found)


# --- Keyboard --------------------------------------------------------------------------


def focused(page) -> dict:
    return page.evaluate("""() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return {id: el.id, tag: el.tagName, text: el.innerText || el.value || "",
                outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
                focusVisible: el.matches(":focus-visible")};
    }""")


def tab_to(page, matches, limit: int = 25) -> dict:
    """Press Tab until the focused element matches; fail after `limit` presses."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if matches(element):
            return element
    raise AssertionError(f"not reached with {limit} Tab presses; last focus: {element}")


def assert_focus_visible(element: dict) -> None:
    assert element["focusVisible"], element
    assert element["outline"] not in ("none", "") and element["outlineWidth"] >= 2, element


def test_sign_in_and_tabs_work_with_the_keyboard_alone(new_context, full_patient):
    username = own_password(full_patient)
    page = new_context().new_page()
    page.goto("/portal/")

    # The skip link comes first and is visible when focused.
    skip = tab_to(page, lambda e: True, limit=1)
    assert skip["text"] == "Skip to content"
    expect(page.get_by_role("link", name="Skip to content")).to_be_in_viewport()
    assert_focus_visible(skip)

    # User Name, Password, Remember User Name, Sign In, in that order.
    # (past the practice's name and phone in the header and on the page)
    assert_focus_visible(tab_to(page, lambda e: e["id"] == "id_username", limit=8))
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_remember"
    page.keyboard.press("Space")
    expect(page.get_by_label("Remember User Name")).to_be_checked()
    page.keyboard.press("Tab")
    button = focused(page)
    assert button["tag"] == "BUTTON" and button["text"] == "Sign In"
    assert_focus_visible(button)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "), level=1)).to_be_visible()

    # Every tab from the header with Tab and Enter; the focus ring shows each time.
    for tab in TABS:
        link = tab_to(page, lambda e, tab=tab: e["tag"] == "A" and e["text"].strip().startswith(tab))
        assert_focus_visible(link)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name=tab, level=1)).to_be_visible()
        current = page.get_by_role("navigation", name="Portal").locator("[aria-current=page]")
        expect(current).to_have_text(tab)

    # The family switcher by keyboard too: choose the child, then Switch.
    select = tab_to(page, lambda e: e["id"] == "family-switch")
    assert_focus_visible(select)
    page.keyboard.press("ArrowDown")  # a closed <select> changes value with the arrows
    switch = tab_to(page, lambda e: e["tag"] == "BUTTON" and e["text"] == "Switch", limit=2)
    assert_focus_visible(switch)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_label("Showing").locator("option:checked")).to_contain_text("Sofia")


# --- Dates in the browser's locale -----------------------------------------------------


def appointment_cells(page) -> tuple[str, str, str]:
    """The visit's date and time as shown, and the language the page says they are in."""
    row = (
        page.get_by_role("table", name="Upcoming appointments")
        .get_by_role("row")
        .filter(has_text="Dr. Ana Reyes")
    )
    expect(row).to_have_count(1)
    cells = row.get_by_role("cell")
    return (
        cells.nth(0).inner_text(),
        cells.nth(1).inner_text(),
        cells.nth(0).locator("time").get_attribute("lang") or "",
    )


def problem_onset(page) -> str:
    """A date-only value (the problem's onset, 2024-05-01) on the Health Summary tab."""
    with page.expect_navigation():
        page.get_by_role("navigation", name="Portal").get_by_role("link", name="Health Summary").click()
    row = page.get_by_role("table", name="Problems").get_by_role("row").filter(has_text="Periodontitis")
    return row.locator("time").inner_text()


def test_dates_follow_the_browsers_locale_in_the_practices_time_zone(new_context, full_patient, may_visit):
    username = own_password(full_patient)
    day = may_visit.day
    year = may_visit.year

    # A German browser, far from the practice: German words, 24-hour time,
    # the practice's clock (14:30 where the visit happens).
    german = new_context(locale="de-DE", timezone_id="Asia/Tokyo").new_page()
    german.goto("/portal/")
    sign_in(german, username, PASSWORD)
    german.goto("/portal/appointments/")
    expect(german.get_by_role("heading", name="Appointments", level=1)).to_be_visible()
    date, time, lang = appointment_cells(german)
    assert "Mai" in date and f"{day}. Mai {year}" in date, date
    assert re.search(r"^(Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag), ", date), date
    assert time.strip() == "14:30", time
    assert lang.startswith("de"), lang  # read out in German, not with the page's English voice
    assert problem_onset(german) == "01.05.2024"

    # An American browser: English words and a 12-hour clock.
    american = new_context(locale="en-US", timezone_id="Europe/Berlin").new_page()
    american.goto("/portal/")
    sign_in(american, username, PASSWORD)
    american.goto("/portal/appointments/")
    expect(american.get_by_role("heading", name="Appointments", level=1)).to_be_visible()
    date, time, lang = appointment_cells(american)
    assert f"{may_visit:%A}, May {day}, {year}" == date.strip(), date
    assert re.fullmatch(r"2:30\sPM", time.strip()), time
    assert lang.startswith("en"), lang
    assert problem_onset(american) == "May 1, 2024"
