"""Issue 6, item 6: a parent with a guardian link acts for a child in a real
browser (SPEC L7, L8), and an unrelated patient sees none of it.

The parent signs in, switches to the child with the family switcher, reads
the child's appointments and health summary, downloads the summary as PDF
and writes to the practice on the child's behalf; front desk answer from the
staff inbox in a browser of their own; the parent reads the answer. Every
view of the child's data is audited with both ids."""

import datetime
import io
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from molar.access.models import PortalAccount
from molar.access.services import access_provide
from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.messaging.models import Message, Thread
from molar.patients.models import GuardianLink, Provider
from molar.patients.services import appointment_save
from molar.portal.services import portal_password_change, portal_username_offer_done
from molar.records import services as records

from .conftest import TIMEOUT_MS

pytestmark = pytest.mark.browser

STAFF = Actor.system("test")
PASSWORD = "Tidepool-Kettle-47"
CHILD_PROBLEM = "Early childhood caries"
CHILD_ALLERGY = "Latex"
PARENT_PROBLEM = "Bruxism"
SUBJECT = "Sofia's loose molar"
QUESTION = "Sofia says the molar wobbles when she eats. Should she come in before her visit?"
ANSWER = "Yes, we have kept Thursday at 9:00 for her. Bring her in then."


def own_password(patient) -> str:
    """Portal access with a password of the patient's own, set through the
    services (past the one-time password and the username offer)."""
    credentials = access_provide(patient=patient, actor=STAFF)
    account = PortalAccount.objects.get(patient=patient)
    account = portal_password_change(account=account, new=PASSWORD, confirm=PASSWORD)
    portal_username_offer_done(account=account)
    return credentials.username


def sign_in(page, username: str) -> None:
    page.goto("/portal/")
    page.get_by_label("User Name", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign In").click()
    # SPEC V2: home first
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "), level=1)).to_be_visible()


def open_tab(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("navigation", name="Portal").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def switch_to(page, patient) -> None:
    page.get_by_label("Showing").select_option(str(patient.pk))
    with page.expect_navigation():
        page.get_by_role("button", name="Switch").click()
    expect(page.get_by_label("Showing").locator("option:checked")).to_contain_text(
        f"{patient.first_name} {patient.last_name}"
    )


def pdf_text(path: Path) -> str:
    content = path.read_bytes()
    assert content.startswith(b"%PDF-"), content[:20]
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def new_context(browser, live_server):
    contexts = []

    def make():
        context = browser.new_context(base_url=live_server.url, accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def family(portal_practice, complete_patient, make_patient):
    """A parent, and a child linked to her with "is guardian"; each with
    their own appointment and health summary."""
    parent = complete_patient
    child = make_patient(first_name="Sofia", birth_date=datetime.date(2017, 8, 21))
    GuardianLink.objects.create(patient=child, guardian=parent, relationship="Mother", is_guardian=True)
    pediatric = Provider.objects.create(name="Dr. Kim Osei", abbreviation="KO")
    general = Provider.objects.create(name="Dr. Ana Reyes", abbreviation="AR")
    visit = (timezone.localtime() + datetime.timedelta(days=12)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    appointment_save(
        patient=child, actor=STAFF, start=visit, duration_minutes=30, provider=pediatric, status="scheduled"
    )
    appointment_save(
        patient=parent,
        actor=STAFF,
        start=visit + datetime.timedelta(days=1),
        duration_minutes=60,
        provider=general,
        status="scheduled",
    )
    records.problem_save(
        patient=child,
        actor=STAFF,
        name=CHILD_PROBLEM,
        code="K02.9",
        onset=datetime.date(2025, 2, 3),
        status="active",
    )
    records.allergy_save(
        patient=child, actor=STAFF, substance=CHILD_ALLERGY, reaction="Rash", severity="mild", active=True
    )
    records.problem_save(
        patient=parent, actor=STAFF, name=PARENT_PROBLEM, code="G47.63", onset=None, status="active"
    )
    return parent, child


@pytest.fixture
def stranger(make_patient, portal_practice):
    return make_patient(first_name="Noor", last_name="Haddad")


def test_parent_acts_for_child_staff_answer_and_a_stranger_sees_nothing(
    new_context, signed_in_page, family, stranger
):
    parent, child = family
    parent_username = own_password(parent)
    stranger_username = own_password(stranger)

    # The parent signs in and sees her own page first, with the switcher.
    mother = new_context().new_page()
    sign_in(mother, parent_username)
    expect(mother.get_by_label("Showing").locator("option:checked")).to_contain_text("(you)")
    expect(mother.locator("#next-h").locator("..")).to_contain_text("Dr. Ana Reyes")  # home: her next visit

    # Switch to the child: her appointments, her health summary.
    switch_to(mother, child)
    open_tab(mother, "Appointments")
    expect(mother.locator("main p", has_text=child.full_name)).to_be_visible()
    upcoming = mother.get_by_role("table", name="Upcoming appointments")
    expect(upcoming.get_by_role("row").filter(has_text="Dr. Kim Osei")).to_have_count(1)
    expect(mother.get_by_text("Dr. Ana Reyes")).to_have_count(0)
    open_tab(mother, "Health Summary")
    expect(mother.get_by_role("table", name="Problems")).to_contain_text(CHILD_PROBLEM)
    expect(mother.get_by_role("table", name="Allergies")).to_contain_text(CHILD_ALLERGY)
    expect(mother.get_by_text(PARENT_PROBLEM)).to_have_count(0)

    # Download the child's summary as PDF.
    with mother.expect_download() as download_info:
        mother.get_by_role("link", name="Download as PDF").click()
    download = download_info.value
    assert download.suggested_filename == "health-summary.pdf"
    text = pdf_text(Path(download.path()))
    assert CHILD_PROBLEM in text and child.last_name in text
    assert PARENT_PROBLEM not in text

    # Write to the practice on the child's behalf.
    open_tab(mother, "Messages")
    expect(mother.get_by_text(f"about {child.full_name}")).to_be_visible()
    mother.get_by_role("textbox", name="Subject").fill(SUBJECT)
    mother.get_by_role("textbox", name="Message", exact=True).fill(QUESTION)
    with mother.expect_navigation():
        mother.get_by_role("button", name="Send").click()
    expect(mother.get_by_role("heading", name=SUBJECT, level=1)).to_be_visible()
    expect(mother.get_by_text(QUESTION)).to_be_visible()
    expect(mother.get_by_text(f"{parent.full_name} (for Sofia)")).to_be_visible()
    thread = Thread.objects.get(subject=SUBJECT)
    assert thread.patient_id == child.pk
    thread_path = f"/portal/messages/{thread.pk}/"

    # Front desk, in a browser of their own: the inbox, the thread, an answer.
    desk = signed_in_page
    desk.get_by_role("navigation", name="Staff").get_by_role("link", name="Messages").click()
    expect(desk.get_by_role("heading", name="Messages", level=1)).to_be_visible()
    row = desk.get_by_role("row").filter(has_text=SUBJECT)
    expect(row).to_contain_text(child.full_name)
    expect(row).to_contain_text("1 unread")
    row.get_by_role("link", name=SUBJECT).click()
    expect(desk.get_by_text(QUESTION)).to_be_visible()
    desk.get_by_role("textbox", name="Message", exact=True).fill(ANSWER)
    desk.get_by_role("button", name="Send answer").click()
    expect(desk.get_by_text("Answer sent.")).to_be_visible()
    expect(desk.get_by_text(ANSWER)).to_be_visible()

    # The parent sees the answer: still showing the child, the thread is new.
    open_tab(mother, "Messages")
    expect(mother.get_by_label("Showing").locator("option:checked")).to_contain_text("Sofia")
    listed = mother.get_by_role("row").filter(has_text=SUBJECT)
    expect(listed).to_contain_text("1 new")
    with mother.expect_navigation():
        listed.get_by_role("link", name=SUBJECT).click()
    expect(mother.get_by_text(ANSWER)).to_be_visible()
    # Switching back from the thread lands on the parent's own Messages tab
    # (not on the child's thread, a 404 for her), where the thread is not.
    switch_to(mother, parent)
    expect(mother.get_by_role("heading", name="Messages", level=1)).to_be_visible()
    expect(mother.get_by_text(SUBJECT)).to_have_count(0)

    # A second, unrelated patient: no switcher, nothing of the child anywhere.
    other = new_context().new_page()
    sign_in(other, stranger_username)
    expect(other.get_by_label("Showing")).to_have_count(0)
    for tab in (
        "Appointments",
        "Messages",
        "Health Summary",
        "Account",
        "Treatment Plan",
        "Documents",
        "Access History",
    ):
        open_tab(other, tab)
        body = other.locator("body").inner_text()
        for secret in (
            "Sofia",
            child.last_name,
            "Dr. Kim Osei",
            CHILD_PROBLEM,
            CHILD_ALLERGY,
            SUBJECT,
            QUESTION,
            ANSWER,
        ):
            assert secret not in body, f"{secret!r} shown to a stranger on {tab}"
    response = other.goto(thread_path)
    assert response.status == 404
    expect(other.get_by_role("heading", name="Not found")).to_be_visible()
    body = other.locator("body").inner_text()
    assert SUBJECT not in body and QUESTION not in body and ANSWER not in body
    # Trying to switch to the child is refused too (a hand-made POST from a page).
    other.goto("/portal/health-summary/")
    refused = other.evaluate(
        """async (child) => {
        const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
        const body = new URLSearchParams({csrfmiddlewaretoken: token, patient: child});
        return (await fetch("/portal/switch/", {method: "POST", body})).status;
    }""",
        str(child.pk),
    )
    assert refused == 404
    other.reload()
    expect(other.get_by_text(CHILD_PROBLEM)).to_have_count(0)

    # Audit: the parent's views of the child's data carry both ids (SPEC L8).
    as_parent = AuditEvent.objects.filter(
        patient_id=child.pk,
        actor_type="representative",
        actor_id=parent.pk,
        detail__representative_id=parent.pk,
    )
    viewed = {event.detail.get("tab") for event in as_parent.filter(action="phi_view")}
    assert {"appointments", "health_summary", "messages"} <= viewed, viewed
    download_row = as_parent.get(action="phi_download")
    assert download_row.detail["what"] == "health_summary" and download_row.detail["format"] == "pdf"
    sent = as_parent.get(action="message_sent")
    assert sent.detail["thread"] == thread.pk
    assert as_parent.filter(action="message_read").exists()  # the answer, read by the parent
    # The stranger's refusals are audited and name no data of the child.
    denied = AuditEvent.objects.filter(
        action="access_denied", outcome="denied", actor_id=stranger.pk, detail__path=thread_path
    )
    assert denied.count() == 1
    assert not AuditEvent.objects.filter(
        patient_id=child.pk, actor_id=stranger.pk, outcome="success"
    ).exists()
    # And the message is stored as the parent's, written for the child.
    question = Message.objects.get(thread=thread, body=QUESTION)
    assert question.author_kind == "representative" and question.author_patient_id == parent.pk
    assert re.fullmatch(rf"{re.escape(parent.full_name)} \(for Sofia\)", question.author_label)
