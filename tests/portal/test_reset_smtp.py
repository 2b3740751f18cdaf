"""SPEC L3, forgot password, through a real SMTP server (issue 3, items 3 and 11).

Django sends with its SMTP backend to an aiosmtpd server on a free local port;
the tests read the reset code out of the mail that server received, as a
patient would. A request only queues its email (SPEC Q2); the helpers run the
worker's send pass after each request, as the worker would within seconds."""

import datetime
import logging
import re

import pytest
import time_machine
from django.utils import timezone

from molar.access.models import PortalAccount
from molar.access.services import access_provide, access_remove
from molar.audit.services import Actor
from molar.outbox.models import OutboxEmail
from molar.patients.models import Patient, Provider
from molar.patients.services import appointment_save
from molar.portal.services import RESET_CODE_INVALID, portal_password_change
from tests.conftest import CsrfClient
from tests.smtp import Inbox, Mail, free_port, send_outbox

pytestmark = pytest.mark.django_db(transaction=True)

CODE = re.compile(r"\b[A-Z0-9]{5}-[A-Z0-9]{5}\b")
OWN_PASSWORD = "Harbor9Tide"  # the patient's password before the reset
RESET_TO = "Lantern-Quay-58"
SENT = "If that user name has an account with an email address, a reset code is on its way."
HOME = "/portal/appointments/"
T0 = datetime.datetime(2026, 3, 2, 14, 0, tzinfo=datetime.UTC)


def account_with_own_password(patient: Patient) -> PortalAccount:
    """Access provided and the one-time password already replaced (SPEC L2)."""
    access_provide(patient=patient, actor=Actor.system("test"))
    account = PortalAccount.objects.get(patient=patient)
    return portal_password_change(account=account, new=OWN_PASSWORD, confirm=OWN_PASSWORD)


@pytest.fixture
def account(smtp, practice, complete_patient):
    return account_with_own_password(complete_patient)


def forgot(client: CsrfClient, username: str):
    response = client.submit("/portal/forgot/", {"username": username}, follow=True)
    send_outbox()
    return response


def reset(client: CsrfClient, username: str, code: str, new: str = RESET_TO):
    response = client.submit(
        "/portal/reset/", {"username": username, "code": code, "new": new, "confirm": new}
    )
    send_outbox()
    return response


def code_in(mail: Mail) -> str:
    match = CODE.search(mail.body)
    assert match, mail.body
    return match.group()


def request_code(smtp: Inbox, username: str) -> str:
    before = len(smtp.mails)
    forgot(CsrfClient(), username)
    assert len(smtp.mails) == before + 1
    return code_in(smtp.mails[-1])


def signs_in(username: str, password: str) -> CsrfClient | None:
    client = CsrfClient()
    response = client.submit("/portal/", {"username": username, "password": password})
    return client if response.status_code == 302 else None


def signed_out(client: CsrfClient) -> bool:
    response = client.get(HOME)
    return response.status_code == 302 and response["Location"].startswith("/portal/?next=")


def refused(response) -> bool:
    return response.status_code == 200 and str(RESET_CODE_INVALID) in response.content.decode()


def test_code_from_the_mail_resets_once_without_signing_in(smtp, account):
    patient = account.patient
    provider = Provider.objects.create(name="Dr. Ana Reyes", abbreviation="AR")
    visit = appointment_save(
        patient=patient,
        actor=Actor.system("test"),
        provider=provider,
        start=timezone.now() + datetime.timedelta(days=3),
    )
    client = CsrfClient()

    page = forgot(client, account.username)
    assert page.redirect_chain == [("/portal/reset/", 302)]
    assert SENT in page.content.decode()
    [code_mail] = smtp.mails
    assert code_mail.to == [patient.email]
    code = code_in(code_mail)

    response = reset(client, account.username, code)

    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert "Your password is reset. Sign in with it now." in client.get("/portal/").content.decode()
    assert signed_out(client)  # L3: a reset does not sign the patient in
    _, notice = smtp.mails
    assert notice.to == [patient.email]
    assert "password" in notice.subject.lower()
    visit_day = timezone.localtime(visit.start)
    for secret_or_health in (
        code,
        code.replace("-", ""),
        RESET_TO,
        OWN_PASSWORD,
        provider.name,
        patient.last_name,
        f"{visit_day:%B} {visit_day.day}",
        f"{visit_day:%Y-%m-%d}",
        f"{patient.birth_date:%Y-%m-%d}",
    ):
        assert secret_or_health not in notice.body
        assert secret_or_health not in notice.subject
    assert not CODE.search(notice.body)
    assert signs_in(account.username, RESET_TO)
    assert not signs_in(account.username, OWN_PASSWORD)

    # Single use: the same code again changes nothing and sends nothing.
    assert refused(reset(client, account.username, code, new="Another-Quay-93"))
    assert signs_in(account.username, RESET_TO)
    assert not signs_in(account.username, "Another-Quay-93")
    assert len(smtp.mails) == 2


def _page(response) -> tuple:
    """What the visitor sees, without the per-response CSRF token."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
    return response.status_code, response.redirect_chain, html


@pytest.mark.parametrize("case", ["unknown user", "no email", "no access"])
def test_same_page_and_no_mail_without_an_account_with_email(smtp, account, make_patient, case):
    real = _page(forgot(CsrfClient(), account.username))
    assert len(smtp.mails) == 1
    if case == "unknown user":
        username = "Nobody4242"
    else:
        other = account_with_own_password(make_patient(first_name="Ines"))
        if case == "no email":
            Patient.objects.filter(pk=other.patient_id).update(email="")
        else:
            access_remove(patient=other.patient, actor=Actor.system("test"))
        username = other.username

    assert _page(forgot(CsrfClient(), username)) == real
    assert SENT in real[2]
    assert len(smtp.mails) == 1


def test_at_most_five_reset_mails_an_hour(smtp, account):
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(7):
            forgot(CsrfClient(), account.username)
        assert len(smtp.mails) == 5
        clock.move_to(T0 + datetime.timedelta(minutes=59, seconds=59))
        forgot(CsrfClient(), account.username)
        assert len(smtp.mails) == 5
        clock.move_to(T0 + datetime.timedelta(hours=1))  # the first five are an hour old
        forgot(CsrfClient(), account.username)
        assert len(smtp.mails) == 6
        # Every mail held a different code; only the latest one works.
        codes = [code_in(mail) for mail in smtp.mails]
        assert len(set(codes)) == 6
        assert refused(reset(CsrfClient(), account.username, codes[0]))
        assert reset(CsrfClient(), account.username, codes[-1]).status_code == 302


@pytest.mark.parametrize(("wrong_tries", "works"), [(9, True), (10, False)])
def test_ten_wrong_codes_void_the_code(smtp, account, wrong_tries, works):
    code = request_code(smtp, account.username)
    wrong = "22222-22222" if code != "22222-22222" else "33333-33333"
    for _ in range(wrong_tries):
        assert refused(reset(CsrfClient(), account.username, wrong))

    response = reset(CsrfClient(), account.username, code)

    if works:
        assert response.status_code == 302
        assert signs_in(account.username, RESET_TO)
    else:
        assert refused(response)
        assert signs_in(account.username, OWN_PASSWORD)
        assert len(smtp.mails) == 1  # no "password changed" notice


@pytest.mark.parametrize(
    ("later", "works"),
    [
        (datetime.timedelta(hours=24), True),
        (datetime.timedelta(hours=24, seconds=1), False),
    ],
)
def test_code_is_valid_for_24_hours(smtp, account, later, works):
    with time_machine.travel(T0, tick=False) as clock:
        code = request_code(smtp, account.username)
        clock.move_to(T0 + later)

        response = reset(CsrfClient(), account.username, code)

        if works:
            assert response.status_code == 302
            assert signs_in(account.username, RESET_TO)
        else:
            assert refused(response)
            assert signs_in(account.username, OWN_PASSWORD)


def test_completed_reset_ends_other_sessions(smtp, account):
    elsewhere = signs_in(account.username, OWN_PASSWORD)
    assert elsewhere and not signed_out(elsewhere)
    code = request_code(smtp, account.username)
    assert not signed_out(elsewhere)  # asking for a code alone changes nothing

    assert reset(CsrfClient(), account.username, code).status_code == 302

    assert signed_out(elsewhere)
    fresh = signs_in(account.username, RESET_TO)
    assert fresh and not signed_out(fresh)


def test_mail_server_down_gives_the_same_page_and_the_worker_tries_again(smtp, account, settings, caplog):
    unknown = _page(forgot(CsrfClient(), "Nobody4242"))
    settings.EMAIL_PORT = free_port()  # nothing listens there
    with caplog.at_level(logging.WARNING):
        real = _page(forgot(CsrfClient(), account.username))
    assert real == unknown
    email = OutboxEmail.objects.exclude(status="skipped").get(kind="reset_code")
    assert email.status == "queued" and email.reason.startswith("retrying: ConnectionRefusedError")
    assert email.patient_id == account.patient_id and email.attempts == 1
    assert not CODE.search(caplog.text) and not CODE.search(email.body)
