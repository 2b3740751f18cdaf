"""SPEC section 15 (V1-V10) in Chromium: every page at phone and desk widths,
the idle-timeout dialog, reloads that repeat nothing, the access page that
prevents mistakes, and the staff pages' dates, focus and error summaries.

`make screenshots` runs the crawl with MOLAR_SCREENSHOTS set: the portal home
at 375 px and the access page at 1280 px (and a few more) are written there."""

import datetime
import os
import re
import time
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from molar.access.models import PortalAccount
from molar.access.services import access_provide
from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.messaging.models import Message
from molar.staffauth.accounts import staff_add

from .test_portal_accessibility import PASSWORD, axe_problems, own_password, report, sign_in

pytestmark = pytest.mark.browser

STAFF = Actor.system("test")
PHONE, SMALL, DESK = 320, 375, 1280
WIDTHS = (PHONE, SMALL, DESK)
HOME = re.compile(r"^Hello, ")
SHOTS = os.environ.get("MOLAR_SCREENSHOTS", "")


# --- Helpers ---------------------------------------------------------------------------


def sideways(page) -> int:
    """How far the page scrolls sideways (0: it fits)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def check(page, label: str, found: dict, widths=WIDTHS) -> None:
    """At each width: no sideways scrolling (WCAG 1.4.10) and no serious or
    critical axe-core violation. Collects problems so one run reports all."""
    page.wait_for_load_state("load")
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        extra = sideways(page)
        wide = page.evaluate("""() => [...document.querySelectorAll("body *")]
            .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .slice(0, 3).map(el => el.tagName + (el.id ? "#" + el.id : "") + "." + el.className)""")
        problems = [f"scrolls sideways by {extra}px: {wide}"] if extra > 0 else []
        problems += axe_problems(page)
        if problems:
            found[f"{label} at {width}px ({page.url})"] = problems
    page.set_viewport_size({"width": DESK, "height": 900})


def shoot(page, name: str, width: int) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    page.screenshot(path=str(Path(SHOTS) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": DESK, "height": 900})


def go(page, path: str, heading=None) -> None:
    page.goto(path)
    if heading is not None:
        expect(page.get_by_role("heading", level=1).first).to_have_text(heading)


def submit(page, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def staff_sign_in(page, *, admin: bool = True) -> str:
    """Signs in through the staff sign-in page; returns the password."""
    username = "boss" if admin else "desk"
    password = staff_add(username=username, admin=admin, actor=STAFF)
    page.goto("/staff/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    submit(page, "Sign in")
    return password


# --- V1, V2, V3, V9: every page fits, at every width, with no serious axe finding -----------


def test_every_portal_page_fits_phones_and_passes_axe(new_context, full_patient, child, thread, make_patient):
    """As a patient (own record) and as a parent viewing a child, error states
    included, at 320, 375 and 1280 px."""
    credentials = access_provide(patient=full_patient, actor=STAFF)
    chat = thread()
    page = new_context().new_page()
    found: dict = {}

    go(page, "/portal/", "Patient Portal")
    check(page, "Sign In", found)
    shoot(page, "portal-sign-in", SMALL)
    sign_in(page, "nobody-here", "Wrong-Guess-1")
    check(page, "Sign In, refused", found)
    for path, title in [
        ("/portal/forgot/", "Forgot Password"),
        ("/portal/reset/", "Reset Password"),
        ("/portal/contact/", "Contact Us"),
        ("/portal/activate/not-a-token/", "This link does not work"),
    ]:
        go(page, path, title)
        check(page, title, found)
    go(page, "/portal/reset/")
    submit(page, "Reset Password")
    check(page, "Reset Password, errors", found)

    go(page, "/portal/")
    sign_in(page, credentials.username, credentials.password)
    check(page, "Set new password", found)
    submit(page, "Save Password")  # blank: errors
    check(page, "Set new password, errors", found)
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("New password again").fill(PASSWORD)
    submit(page, "Save Password")
    check(page, "Username offer", found)
    submit(page, f"Keep {credentials.username}")
    expect(page.get_by_role("heading", name=HOME, level=1)).to_be_visible()
    # SPEC V2: the summary, the unread count, and the current tab marked.
    expect(page.locator("#unread-count")).to_have_text("1 unread message")
    expect(
        page.get_by_role("navigation", name="Portal").get_by_role("link", name="Messages")
    ).to_contain_text("1")
    expect(page.locator("[aria-current=page]")).to_have_text("Home")
    check(page, "Home", found)
    shoot(page, "portal-home", SMALL)
    shoot(page, "portal-home", PHONE)
    shoot(page, "portal-home", DESK)

    for path, title in [
        ("/portal/appointments/", "Appointments"),
        ("/portal/account/", "Account"),
        ("/portal/treatment-plan/", "Treatment Plan"),
        ("/portal/messages/", "Messages"),
        ("/portal/health-summary/", "Health Summary"),
        ("/portal/documents/", "Documents"),
        ("/portal/history/", "Access History"),
        ("/portal/profile/", "Profile"),
    ]:
        go(page, path, title)
        expect(page.locator("nav [aria-current=page]")).to_contain_text(title)
        check(page, title, found)
    shoot(page, "portal-profile", PHONE)
    go(page, "/portal/messages/")
    shoot(page, "portal-messages", PHONE)
    submit(page, "Send")  # blank: the errors
    check(page, "Messages, errors", found)
    go(page, "/portal/profile/")
    page.get_by_role("button", name="Change Password").click()
    page.wait_for_load_state("load")
    check(page, "Profile, errors", found)
    go(page, "/portal/health-summary/")
    page.get_by_label("Email address").fill("not an address")
    submit(page, "Send the health summary")
    check(page, "Health Summary, not sent", found)
    go(page, f"/portal/messages/{chat.pk}/", "Sensitive tooth")
    check(page, "Message thread", found)
    go(page, "/portal/messages/999999/", "Not found")
    check(page, "Not found", found)

    # SPEC V2: a parent viewing the child's record is told so on every page.
    page.get_by_label("Showing").select_option(str(child.pk))
    submit(page, "Switch")
    for path in (
        "/portal/home/",
        "/portal/appointments/",
        "/portal/account/",
        "/portal/treatment-plan/",
        "/portal/health-summary/",
        "/portal/messages/",
        "/portal/documents/",
        "/portal/history/",
    ):
        go(page, path)
        expect(page.locator("#viewing")).to_have_text(f"You are viewing the record of {child.full_name}.")
        check(page, f"{path} as the parent", found)
    shoot(page, "portal-guardian-messages", SMALL)

    # SPEC V1: on a phone the menu folds behind a button.
    page.set_viewport_size({"width": PHONE, "height": 800})
    nav_link = page.get_by_role("navigation", name="Portal").get_by_role("link", name="Documents")
    expect(nav_link).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "true")
    expect(nav_link).to_be_visible()

    assert not found, "pages that scroll sideways or fail axe-core:\n" + report(found)


def test_every_staff_page_fits_1280_and_passes_axe(page, portal_practice, full_patient, make_patient):
    staff_sign_in(page)
    incomplete = make_patient(first_name="Zoë", city="", email="")
    access_provide(patient=full_patient, actor=STAFF)
    found: dict = {}
    pk = full_patient.pk
    pages = [
        ("/staff/patients/", "Patients"),
        (f"/staff/patients/{pk}/", None),
        (f"/staff/patients/{pk}/edit/", None),
        ("/staff/patients/new/", "New patient"),
        (f"/staff/patients/{pk}/appointments/new/", None),
        ("/staff/patients/import/", "Import patients"),
        (f"/staff/patients/{incomplete.pk}/portal-access/", "Patient Portal Access"),
        (f"/staff/patients/{pk}/portal-access/remove/", "Remove online access?"),
        (f"/staff/patients/{pk}/records/", "Clinical and account records"),
        (f"/staff/patients/{pk}/sheets/", "Sheets"),
        ("/staff/settings/", "Practice settings"),
        ("/staff/invites/", "Invites"),
        ("/staff/invites/rules/", "Patient Portal invites"),
        ("/staff/invites/bulk/", None),
        ("/staff/sheets/templates/", "Sheet templates"),
        ("/staff/sheets/templates/new/", None),
        ("/staff/dashboard/", None),
        ("/staff/messages/", "Messages"),
        ("/staff/outbox/", "Outbox"),
        ("/staff/audit/", "Audit trail"),
    ]
    for path, title in pages:
        response = page.goto(path)
        assert response.status == 200, path
        if title:
            expect(page.get_by_role("heading", level=1)).to_have_text(title)
        check(page, path, found, widths=(DESK,))

    # With errors: the patient form and the access page after a refusal.
    page.goto(f"/staff/patients/{pk}/edit/")
    page.get_by_label("Birth date").fill("1700-01-01")
    submit(page, "Save patient")
    check(page, "Edit patient, errors", found, widths=(DESK,))
    page.goto(f"/staff/patients/{pk}/portal-access/")
    submit(page, "Generate New")
    expect(page.locator("#online-password")).to_have_text(re.compile(r"^\w{8}$"))
    check(page, "Access page, password shown", found, widths=(DESK,))
    shoot(page, "staff-access", DESK)
    page.goto(f"/staff/patients/{incomplete.pk}/portal-access/")
    shoot(page, "staff-access-ineligible", DESK)
    page.goto("/staff/audit/")
    shoot(page, "staff-audit", DESK)

    assert not found, "staff pages that scroll sideways or fail axe-core:\n" + report(found)


# --- V4: the idle limit ------------------------------------------------------------------


def test_idle_warning_stay_signed_in_and_a_kept_message(settings, new_context, full_patient):
    settings.SESSION_COOKIE_AGE = 14  # seconds of idleness allowed
    settings.SESSION_WARNING_SECONDS = 9  # the dialog shows this long before the end
    username = own_password(full_patient)
    page = new_context().new_page()
    page.goto("/portal/")
    sign_in(page, username, PASSWORD)
    page.goto("/portal/messages/")
    page.get_by_label("Subject").fill("Crown")
    page.get_by_label("Message").fill("Can I move my crown visit to Friday?")

    dialog = page.get_by_role("dialog", name="Are you still there?")
    expect(dialog).to_be_visible(timeout=12_000)
    # When the session would have ended without the button (a GET only asks).
    first_limit = time.monotonic() + page.request.get("/session/keepalive").json()["expires_in"]
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    # Only time passing can show the renewal held: wait until just past that limit.
    page.wait_for_timeout(max(0.0, first_limit + 1 - time.monotonic()) * 1000)
    assert page.request.get("/portal/home/", max_redirects=0).status == 200

    # No more activity: the session ends, the sign-in page says why, the text is kept.
    page.wait_for_url(re.compile(r"/portal/\?.*timeout=1"), timeout=25_000)
    expect(page.locator("#timeout-notice")).to_contain_text("signed out because nothing happened")
    assert page.request.get("/portal/home/", max_redirects=0).status == 302  # really ended
    settings.SESSION_COOKIE_AGE = 900
    sign_in(page, username, PASSWORD)
    expect(page.get_by_role("heading", name="Messages", level=1)).to_be_visible()  # back where it was
    expect(page.get_by_label("Message")).to_have_value("Can I move my crown visit to Friday?")
    expect(page.get_by_label("Subject")).to_have_value("Crown")
    submit(page, "Send")
    expect(page.get_by_text("Message sent.")).to_be_visible()
    page.goto("/portal/messages/")
    expect(page.get_by_label("Message")).to_have_value("")  # sent: the draft is gone


def test_staff_edit_form_survives_the_idle_limit(settings, page, complete_patient):
    settings.SESSION_COOKIE_AGE = 8
    settings.SESSION_WARNING_SECONDS = 4
    password = staff_sign_in(page, admin=False)
    page.goto(f"/staff/patients/{complete_patient.pk}/edit/")
    page.get_by_label("City").fill("Bangor")
    page.wait_for_url(re.compile(r"/staff/login/\?.*timeout=1"), timeout=20_000)
    expect(page.locator("#timeout-notice")).to_be_visible()
    settings.SESSION_COOKIE_AGE = 900
    page.get_by_label("Username").fill("desk")
    page.get_by_label("Password").fill(password)
    submit(page, "Sign in")
    expect(page.get_by_label("City")).to_have_value("Bangor")


# --- V5: reloading repeats nothing ----------------------------------------------------------


def test_reloads_after_each_action_repeat_nothing(page, portal_practice, complete_patient, new_context):
    page.on("dialog", lambda dialog: dialog.accept())  # the W8 "leave page?" prompt on reload
    staff_sign_in(page, admin=False)
    page.goto(f"/staff/patients/{complete_patient.pk}/portal-access/")
    seen = []
    for action in ("Provide Online Access", "Generate New", "Set Password"):
        if action == "Set Password":
            page.get_by_label("Type a password").fill("Tide7Pool")
        submit(page, action)
        shown = page.locator("#online-password").inner_text()
        assert re.fullmatch(r"\w{8,9}", shown), shown
        assert page.url.endswith("/portal-access/")  # the action's address is not in the history
        page.reload()
        expect(page.locator("#online-password")).to_have_text("********")  # shown once
        seen.append(shown)
    account = PortalAccount.objects.get(patient=complete_patient)
    assert account.check_password(seen[-1])  # the last one read out still works
    assert not any(account.check_password(p) for p in seen[:-1])
    for audited in ("access_provided", "password_generated", "password_typed"):
        assert AuditEvent.objects.filter(action=audited, outcome="success").count() == 1, audited

    # The portal's Send: one message however often the page is reloaded.
    account.require_password_change = False
    account.set_password(PASSWORD)
    account.save()
    patient = new_context().new_page()
    patient.goto("/portal/")
    sign_in(patient, account.username, PASSWORD)
    patient.goto("/portal/messages/")
    patient.get_by_label("Subject").fill("Parking")
    patient.get_by_label("Message").fill("Where do I park?")
    submit(patient, "Send")
    patient.reload()
    patient.reload()
    assert Message.objects.filter(body="Where do I park?").count() == 1


# --- V8, V9: the access page and the staff pages ----------------------------------------------

CONTRAST_JS = """(selector) => {
    const el = document.activeElement;
    if (el !== document.querySelector(selector)) return 0;
    const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const channel = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    const lum = c => { const [r, g, b] = c.map(channel); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const clear = s => /rgba\\(0, 0, 0, 0\\)|transparent/.test(s);
    let node = el.parentElement, bg = "rgba(0, 0, 0, 0)";
    while (node && clear(bg)) { bg = getComputedStyle(node).backgroundColor; node = node.parentElement; }
    if (clear(bg)) bg = "rgb(255, 255, 255)";
    const [a, b] = [lum(rgb(getComputedStyle(el).outlineColor)), lum(rgb(bg))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def contrast(page, selector: str) -> float:
    """Contrast between an element's focus ring and the background around it,
    with the element reached by the keyboard (so :focus-visible applies)."""
    page.focus(selector)
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    return page.evaluate(CONTRAST_JS, selector)


def test_access_page_enables_only_what_can_succeed(page, portal_practice, make_patient):
    staff_sign_in(page, admin=False)
    patient = make_patient(city="", email="")
    page.goto(f"/staff/patients/{patient.pk}/portal-access/")
    for name in (
        "Provide Online Access",
        "Generate New",
        "Print (opens in a new tab)",
        "Set Password",
        "Save Username",
    ):
        expect(page.get_by_role("button", name=name)).to_be_disabled()
    expect(page.get_by_role("button", name="Remove Online Access")).to_have_count(0)
    # Each problem links to its field.
    page.get_by_role("link", name="Missing patient city.").click()
    expect(page.get_by_label("City")).to_be_focused()

    # A crafted POST of a disabled action changes nothing.
    page.goto(f"/staff/patients/{patient.pk}/portal-access/")
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    for action in ("provide", "generate", "password"):
        response = page.request.post(
            f"/staff/patients/{patient.pk}/portal-access/{action}/",
            form={"csrfmiddlewaretoken": token, "password": "Tide7Pool"},
            headers={"Referer": page.url},
        )
        assert response.ok, action
    assert not PortalAccount.objects.filter(patient=patient).exists()
    page.goto(f"/staff/patients/{patient.pk}/portal-access/")

    # Once eligible: Provide first; then Remove comes last and asks to confirm.
    patient.city, patient.email = "Portland", "zoe@example.com"
    patient.save()
    page.goto(f"/staff/patients/{patient.pk}/portal-access/")
    submit(page, "Provide Online Access")
    generate = page.get_by_role("button", name="Generate New").bounding_box()
    remove = page.get_by_role("button", name="Remove Online Access").bounding_box()
    assert remove["y"] > generate["y"] + 100
    expect(page.get_by_label("Type a password")).to_have_attribute("type", "password")
    page.get_by_label("Show").check()
    expect(page.get_by_label("Type a password")).to_have_attribute("type", "text")
    page.on("dialog", lambda dialog: dialog.accept())
    submit(page, "Remove Online Access")
    expect(page.get_by_role("heading", name="Remove online access?")).to_be_visible()
    assert PortalAccount.objects.get(patient=patient).has_access


def test_staff_pages_dates_focus_and_error_summary(page, portal_practice, complete_patient):
    staff_sign_in(page)
    visit = timezone.make_aware(datetime.datetime(2026, 11, 26, 15, 5))
    from molar.patients.services import appointment_save

    appointment_save(
        patient=complete_patient,
        actor=STAFF,
        start=visit,
        duration_minutes=30,
        provider=None,
        status="scheduled",
    )
    page.goto(f"/staff/patients/{complete_patient.pk}/")
    row = page.get_by_role("row").filter(has_text="Scheduled")
    expect(row).to_contain_text("Nov 26, 2026")
    expect(row).to_contain_text("3:05 PM")
    expect(page.get_by_role("row", name="Birthdate")).to_contain_text("Mar 12, 1984")

    # After a failed submit, focus is on the error summary, which links to the field.
    page.goto(f"/staff/patients/{complete_patient.pk}/edit/")
    page.get_by_label("Birth date").fill("1700-01-01")
    submit(page, "Save patient")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Birth date")).to_be_focused()

    # The focus ring has 3:1 contrast on light pages and in the dark header.
    assert contrast(page, "main button") >= 3
    assert contrast(page, "#id_first_name") >= 3
    assert contrast(page, "header nav a") >= 3

    # Audit details are words, not JSON.
    page.goto("/staff/audit/")
    expect(page.locator("tbody")).not_to_contain_text('{"')
