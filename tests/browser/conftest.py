"""Fixtures for browser tests: Debian's Chromium driven by Playwright (sync API)
against pytest-django's live server.

Playwright's sync API runs an event loop in the main thread, so Django would
refuse ORM calls from the test body without DJANGO_ALLOW_ASYNC_UNSAFE. The
browser binary is the system one; `playwright install` is never needed."""

import os

import pytest
from playwright.sync_api import sync_playwright

from molar.audit.services import Actor
from molar.practice.models import PracticeSettings
from molar.practice.staff import staff_add

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def staff_sign_in_with_a_password_alone(transactional_db):
    """Staff sign in with a password, as in the demo (SPEC K2 off); the
    second-factor journeys (test_second_factors.py) turn it back on."""
    PracticeSettings.objects.update_or_create(
        pk=1, defaults={"require_staff_two_factor": False, "require_admin_two_factor": False})
    PracticeSettings.forget_cached()


@pytest.fixture
def portal_practice(transactional_db, practice):
    """Portal on, a Patient Facing URL and the chart's Patient Portal row (SPEC S1, S2, S4)."""
    practice.display_fields = [*practice.display_fields, "patient_portal"]
    practice.full_clean()
    practice.save()
    return practice


@pytest.fixture
def desk_login(transactional_db):
    """A front-desk user's username and password, for the real sign-in page."""
    username = "frontdesk"
    return username, staff_add(username=username, admin=False, actor=Actor.system("test"))


@pytest.fixture
def signed_in_page(page, desk_login):
    """A page signed in as front desk through /staff/login/."""
    username, password = desk_login
    page.goto("/staff/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Patients").wait_for()
    return page


@pytest.fixture
def new_context(browser, live_server):
    """Browser contexts that share nothing with the staff page (or each other)."""
    contexts = []

    def make():
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
