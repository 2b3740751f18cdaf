"""Fixtures for browser tests: Debian's Chromium driven by Playwright (sync API)
against pytest-django's live server.

Playwright's sync API runs an event loop in the main thread, so Django would
refuse ORM calls from the test body without DJANGO_ALLOW_ASYNC_UNSAFE. The
browser binary is the system one; `playwright install` is never needed."""

import datetime
import os
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import sync_playwright

from molar.access.models import PortalAccount
from molar.audit.services import Actor
from molar.messaging.services import message_reply_from_staff, message_thread_start
from molar.patients.models import GuardianLink, Provider
from molar.patients.services import appointment_save
from molar.practice.models import PracticeSettings
from molar.records import services as records
from molar.staffauth.accounts import staff_add

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 10_000
STAFF = Actor.system("test")
PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def in_practice_zone(*args) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args), timezone.get_current_timezone())


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
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
    practice = PracticeSettings.load()
    practice.require_staff_two_factor = practice.require_admin_two_factor = False
    practice.save()


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

    def make(**options):
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


# --- A patient with something on every portal tab (shared by the portal browser tests) ---


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def may_visit():
    """An upcoming visit in May at 14:30 in the practice's time zone."""
    year = timezone.localdate().year + 1
    return in_practice_zone(year, 5, 6, 14, 30)


@pytest.fixture
def full_patient(portal_practice, complete_patient, make_patient, front_desk, may_visit):
    """A patient with data on every tab, a child by guardian link (so the family
    switcher shows) and a message thread the practice answered."""
    patient = complete_patient
    provider = Provider.objects.create(name="Dr. Ana Reyes", abbreviation="AR")
    appointment_save(
        patient=patient,
        actor=STAFF,
        start=may_visit,
        duration_minutes=45,
        provider=provider,
        status="scheduled",
    )
    appointment_save(
        patient=patient,
        actor=STAFF,
        start=timezone.now() - datetime.timedelta(days=40),
        duration_minutes=60,
        provider=provider,
        status="complete",
    )
    for description, kind, amount in [
        ("Exam", "charge", "95.00"),
        ("Cleaning", "charge", "120.00"),
        ("Card payment", "payment", "100.00"),
    ]:
        records.ledger_entry_add(
            patient=patient,
            date=timezone.localdate() - datetime.timedelta(days=20),
            description=description,
            kind=kind,
            amount=Decimal(amount),
            actor=STAFF,
        )
    records.statement_create(
        patient=patient,
        period_start=timezone.localdate() - datetime.timedelta(days=30),
        period_end=timezone.localdate(),
        actor=STAFF,
    )
    records.treatment_plan_save(
        patient=patient,
        name="Crowns",
        status="active",
        actor=STAFF,
        procedures=[
            {"code": "D2740", "description": "Crown, porcelain", "tooth": "3", "fee": Decimal("1200.00")},
            {"code": "D2950", "description": "Core buildup", "tooth": "3", "fee": Decimal("250.00")},
        ],
    )
    records.problem_save(
        patient=patient,
        actor=STAFF,
        name="Periodontitis",
        code="K05.30",
        onset=datetime.date(2024, 5, 1),
        status="active",
    )
    records.medication_save(
        patient=patient,
        actor=STAFF,
        name="Chlorhexidine",
        instructions="Rinse 15 ml twice daily",
        start=datetime.date(2026, 1, 5),
        stop=None,
        active=True,
    )
    records.allergy_save(
        patient=patient,
        actor=STAFF,
        substance="Penicillin",
        reaction="Hives",
        severity="moderate",
        active=True,
    )
    records.document_upload(
        patient=patient,
        title="X-ray report",
        show_in_portal=True,
        actor=STAFF,
        upload=SimpleUploadedFile("report.pdf", PDF_BYTES),
    )
    child = make_patient(first_name="Sofia")
    GuardianLink.objects.create(patient=child, guardian=patient, relationship="Mother", is_guardian=True)
    return patient


@pytest.fixture
def child(full_patient):
    return GuardianLink.objects.get(guardian=full_patient).patient


@pytest.fixture
def thread(full_patient, front_desk):
    """Needs the portal account: call after access is provided."""

    def make():
        account = PortalAccount.objects.get(patient=full_patient)
        thread = message_thread_start(
            patient=full_patient,
            actor_account=account,
            subject="Sensitive tooth",
            body="My upper left tooth aches.",
        )
        message_reply_from_staff(thread=thread, user=front_desk, body="Come in on Tuesday.")
        return thread

    return make
