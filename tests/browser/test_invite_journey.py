"""An appointment invite from rule to portal in a real browser (issue 4, item 8).

An administrator adds a "before" rule on the Invite rules page and switches it
on; a patient who can be given access has a visit in two days. The real invite
worker (`run_worker`, in a thread) finds the invite and sends it with Django's
SMTP backend to an aiosmtpd server in this process. The patient, in a browser
of their own, follows the [ActivationLink] from that mail, sets a password and
lands in the portal; the link then stops working, and staff see the invite as
sent."""

import datetime
import re
import threading
import time

import pytest
from django.db import connections
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import expect

from molar.access.credentials import ALPHABET
from molar.access.models import PortalAccount
from molar.audit.services import Actor
from molar.invites import delivery
from molar.invites.models import Invite, InviteRule
from molar.invites.rendering import DEFAULT_SUBJECT
from molar.ops import worker as worker_module
from molar.ops.worker import run_worker
from molar.patients.models import Provider
from molar.patients.services import appointment_save
from molar.staffauth.accounts import staff_add

pytestmark = pytest.mark.browser

ADMIN = "practiceadmin"
NEW_PASSWORD = "Tidepool-Kettle-47"
ONE_TIME_PASSWORD = re.compile(rf"(?<![{ALPHABET}])[{ALPHABET}]{{8}}(?![{ALPHABET}])")
LINK_INVALID = "This link does not work"
MAIL_WAIT_S = 10


@pytest.fixture
def portal_url(transactional_db, practice, live_server):
    """Portal on, practice email set, and the Patient Facing URL is this server's portal."""
    practice.patient_facing_url = f"{live_server.url}/portal/"
    practice.full_clean()
    practice.save()
    assert practice.portal_enabled and practice.practice_email
    return practice.patient_facing_url


@pytest.fixture
def admin_page(page):
    """A page signed in as an administrator through /staff/login/."""
    password = staff_add(username=ADMIN, admin=True, actor=Actor.system("test"))
    page.goto("/staff/login/")
    page.get_by_label("Username").fill(ADMIN)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Staff")).to_be_visible()
    return page


@pytest.fixture
def appointment(transactional_db, complete_patient):
    """A scheduled visit two days ahead: inside a 7-days-before rule's window."""
    provider = Provider.objects.create(name="Dr. Ana Reyes", abbreviation="AR")
    start = (timezone.localtime() + datetime.timedelta(days=2)).replace(
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


@pytest.fixture
def issued_passwords(monkeypatch):
    """Every one-time password the invite sender issues, so the test can check
    that none of them is in the mail."""
    issued = []
    real = delivery.access_issue_for_delivery

    def spy(**kwargs):
        credentials = real(**kwargs)
        if credentials is not None:
            issued.append(credentials.credentials.password)
        return credentials

    monkeypatch.setattr(delivery, "access_issue_for_delivery", spy)
    return issued


def wait_until(condition, timeout: float = MAIL_WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still waiting after {timeout} s"
        time.sleep(0.05)


class Rounds:
    """Counts the worker's invite scans, and which scan the latest finished
    send round came after: a test can wait for a whole new round."""

    def __init__(self, monkeypatch):
        self.scans = 0
        self.sent_after_scan = 0
        scan, send = worker_module.invites_scan, worker_module.invites_send_due

        def counted_scan(*args, **kwargs):
            result = scan(*args, **kwargs)
            self.scans += 1
            return result

        def counted_send(*args, **kwargs):
            seen = self.scans
            result = send(*args, **kwargs)
            self.sent_after_scan = seen
            return result

        monkeypatch.setattr(worker_module, "invites_scan", counted_scan)
        monkeypatch.setattr(worker_module, "invites_send_due", counted_send)


class Worker:
    """`molar worker`'s loop in a thread, stopped with its Event."""

    def __init__(self):
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, name="invite-worker", daemon=True)

    def _run(self):
        try:
            run_worker(scan_every=0.5, idle_sleep=0.2, batch=10, stop=self.stop)
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            self.errors.append(exc)
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the invite worker did not stop"


def add_enabled_before_rule(page) -> str:
    """Invite rules → Add before → tick Enabled → Save rule; returns the subject template."""
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Invite rules").click()
    expect(page.get_by_role("heading", name="Patient Portal invites")).to_be_visible()
    page.get_by_role("button", name="Add before").click()
    expect(page.get_by_role("heading", name="Invite rule")).to_be_visible()
    expect(page.get_by_text("Rule added with the default timing and email.")).to_be_visible()
    body = page.locator("textarea[name=body]").input_value()
    assert "[ActivationLink]" in body
    assert "[Password]" not in body
    subject = page.locator("input[name=subject]").input_value()
    enabled = page.get_by_label("Enabled")
    expect(enabled).not_to_be_checked()
    enabled.check()
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Rule saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="Patient Portal invites")).to_be_visible()
    row = page.get_by_role("table", name="Invite rules").get_by_role("row").filter(has_text="before")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("7 days 0 hours before")
    expect(row.get_by_role("cell", name="Yes", exact=True)).to_have_count(1)
    return subject


def test_admin_rule_worker_mail_activation_link_to_portal(
    admin_page,
    new_context,
    smtp,
    portal_url,
    practice,
    complete_patient,
    appointment,
    issued_passwords,
    live_server,
    monkeypatch,
):
    staff = admin_page

    # Administrator: a "before" rule with SPEC I1's defaults, switched on.
    subject_template = add_enabled_before_rule(staff)
    assert subject_template == DEFAULT_SUBJECT["before"]
    rule = InviteRule.objects.get()
    assert rule.enabled and rule.timing == InviteRule.Timing.BEFORE and rule.days == 7

    # The real worker loop scans, finds the visit in two days and sends one mail.
    rounds = Rounds(monkeypatch)
    with Worker() as worker:
        [mail] = smtp.wait_for(1)
        wait_until(lambda: Invite.objects.filter(status=Invite.Status.SENT).exists())
        # A whole new scan and the send round after it: nothing more goes out.
        sent_at_scan = rounds.scans
        wait_until(lambda: rounds.sent_after_scan > sent_at_scan)
    assert not worker.errors, worker.errors
    assert len(smtp.mails) == 1

    invite = Invite.objects.get()
    assert (invite.rule_id, invite.appointment_id, invite.patient_id) == (
        rule.pk,
        appointment.pk,
        complete_patient.pk,
    )
    assert invite.status == Invite.Status.SENT, (invite.status, invite.reason)
    assert invite.attempts == 1 and invite.recipient == complete_patient.email

    assert mail.to == [complete_patient.email]
    assert mail.subject == subject_template.replace("[OfficeName]", practice.practice_name)
    account = PortalAccount.objects.get(patient=complete_patient)
    username = account.username
    assert f"Your user name: {username}" in mail.body
    assert f"Dear {complete_patient.first_name}," in mail.body
    assert practice.practice_phone in mail.body
    assert portal_url in mail.body
    assert not re.search(r"\[[A-Za-z]+\]", mail.body), mail.body  # every tag replaced
    # No password: the default template has no [Password]; the one-time password
    # the invite issued is neither in the mail nor anything shaped like one.
    assert len(issued_passwords) == 1
    for password in issued_passwords:
        assert password not in mail.body and password not in mail.subject
    rest = re.sub(r"https?://\S+", " ", mail.body).replace(username, " ")  # links, user name
    shaped = [word for word in ONE_TIME_PASSWORD.findall(rest) if not word.isalpha()]
    assert not shaped, (shaped, username, mail.body)
    assert "password:" not in mail.body.lower()

    links = re.findall(r"https?://\S+/portal/activate/[^/\s]+/", mail.body)
    assert len(links) == 1, mail.body
    [link] = links
    assert link.startswith(f"{live_server.url}/portal/activate/")

    # Patient, in a browser of their own: the link opens the set-password page.
    patient = new_context().new_page()
    patient.goto(link)
    expect(patient.get_by_role("heading", name="Set your password")).to_be_visible()
    assert patient.url.endswith("/portal/activate/"), patient.url  # token off the URL
    expect(patient.locator("main, body").first).to_contain_text(f"Your user name is {username}.")
    patient.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    patient.get_by_label("New password again").fill(NEW_PASSWORD)
    with patient.expect_navigation():
        patient.get_by_role("button", name="Save Password").click()

    # Signed in: the username offer, then the portal's Appointments page.
    expect(patient.get_by_role("heading", name="Would you like a different user name?")).to_be_visible()
    patient.get_by_role("button", name=f"Keep {username}").click()
    # SPEC V2: home first
    expect(patient.get_by_role("heading", name=re.compile(r"^Hello, "), level=1)).to_be_visible()
    patient.get_by_role("navigation", name="Portal").get_by_role("link", name="Appointments").click()
    expect(patient.get_by_role("heading", name="Appointments", level=1)).to_be_visible()
    start = timezone.localtime(appointment.start)
    row = (
        patient.get_by_role("table", name="Upcoming appointments")
        .get_by_role("row")
        .filter(has_text="Dr. Ana Reyes")
    )
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"{start:%A, %B} {start.day}, {start.year}")
    expect(row).to_contain_text("Scheduled")
    account.refresh_from_db()
    assert account.username == username and not account.require_password_change
    assert account.check_password(NEW_PASSWORD)
    assert not any(account.check_password(password) for password in issued_passwords)

    # Single use: the same link, opened again (also in a fresh browser), does not work.
    patient.goto(link)
    expect(patient.get_by_role("heading", name=LINK_INVALID)).to_be_visible()
    stranger = new_context().new_page()
    stranger.goto(link)
    expect(stranger.get_by_role("heading", name=LINK_INVALID)).to_be_visible()
    expect(stranger.get_by_role("button", name="Save Password")).to_have_count(0)

    # Staff: the Invites page lists the invite as sent.
    staff.get_by_role("navigation", name="Staff").get_by_role("link", name="Invites", exact=True).click()
    expect(staff.get_by_role("heading", name="Invites", level=1)).to_be_visible()
    listed = (
        staff.get_by_role("table", name="Invites")
        .get_by_role("row")
        .filter(has_text=complete_patient.last_name)
    )
    expect(listed).to_have_count(1)
    expect(listed.get_by_role("cell", name="Sent", exact=True)).to_have_count(1)
    expect(listed).to_contain_text(date_format(start, "DATETIME_FORMAT"))  # SPEC V9: "Nov 28, 2026, 10:30 AM"
