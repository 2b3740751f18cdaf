"""Patient-side writes never wait on a patient row that staff hold (SPEC Q3,
issue 9 item 2). Staff writes lock the patient, then the portal account
(Provide, Generate New, Remove: access/services.py). A patient-side write
that held the account and then waited on the patient would close a cycle
with them, and PostgreSQL would abort one side with "deadlock detected":
whether it locked the patient itself or only wrote a row pointing at the
patient (an outbox email's foreign-key check) while staff held the patient
FOR UPDATE.

Each test runs a real Generate New in one thread, stopped between its two
locks, and the real patient-side service in another."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.utils import timezone

from molar.access import services as access_services
from molar.access.activation import activation_issue
from molar.access.models import PortalAccount
from molar.access.reset_codes import access_reset_code_issue, access_reset_code_prepare
from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.messaging.models import Thread
from molar.messaging.services import message_thread_start
from molar.outbox.models import OutboxEmail
from molar.portal.services import portal_activate, portal_reset_complete, portal_reset_request

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Lighthouse Keeper 42"  # noqa: S105 (a test password)
WAIT_SECONDS = 10.0  # generous: a passing run never waits it out


def in_thread(work: Callable[[], object], raised: list) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except Exception as exc:  # reported to the test, not lost in the thread
            raised.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def runs_between_generate_news_locks(
    account: PortalAccount, action: Callable[[], object], monkeypatch
) -> None:
    """Generate New locks the patient and pauses; `action` must finish
    meanwhile; then Generate New goes on to lock the account. Both must
    succeed."""
    patient_locked, go_on = threading.Event(), threading.Event()
    real_lock = access_services.patient_lock

    def pausing_lock(pk: int):
        patient = real_lock(pk)
        patient_locked.set()
        go_on.wait(WAIT_SECONDS * 2)
        return patient

    monkeypatch.setattr(access_services, "patient_lock", pausing_lock)
    staff_raised: list = []
    staff = in_thread(
        lambda: access_services.access_generate_password(patient=account.patient, actor=Actor.system("test")),
        staff_raised,
    )
    assert patient_locked.wait(WAIT_SECONDS), "Generate New did not get to lock the patient"
    patient_raised: list = []
    patient_side = in_thread(action, patient_raised)
    patient_side.join(WAIT_SECONDS)
    finished_meanwhile = not patient_side.is_alive()
    go_on.set()
    staff.join(WAIT_SECONDS * 2)
    patient_side.join(WAIT_SECONDS * 2)
    assert finished_meanwhile, "the patient-side write waited on the patient row Generate New held"
    assert (patient_raised, staff_raised) == ([], [])
    assert AuditEvent.objects.filter(action="password_generated", patient_id=account.patient_id).exists()


def test_forgot_password_does_not_wait_on_the_patient_row(credentials, monkeypatch):
    account = PortalAccount.objects.get(username=credentials[0])
    runs_between_generate_news_locks(
        account, lambda: portal_reset_request(username=account.username), monkeypatch
    )
    queued = OutboxEmail.objects.get(kind=OutboxEmail.Kind.RESET_CODE, patient_id=account.patient_id)
    assert queued.status == OutboxEmail.Status.QUEUED and queued.recipient == account.patient.email


def test_the_reset_code_the_worker_issues_does_not_wait_on_the_patient_row(credentials, monkeypatch):
    account = PortalAccount.objects.get(username=credentials[0])
    refusals = []

    def issue() -> None:
        with transaction.atomic():
            refusals.append(
                access_reset_code_issue(patient_id=account.patient_id, code_hash="x$hash", now=timezone.now())
            )

    runs_between_generate_news_locks(account, issue, monkeypatch)
    assert refusals == [""]


def test_an_activation_link_does_not_wait_on_the_patient_row(credentials, monkeypatch):
    account = PortalAccount.objects.get(username=credentials[0])
    token = activation_issue(account)
    activate = lambda: portal_activate(token=token, new=NEW_PASSWORD, confirm=NEW_PASSWORD)  # noqa: E731
    runs_between_generate_news_locks(account, activate, monkeypatch)
    assert AuditEvent.objects.filter(action="activation_completed", patient_id=account.patient_id).exists()


def test_a_reset_with_a_good_code_does_not_wait_on_the_patient_row(credentials, monkeypatch):
    """It locks the account and queues the "password changed" notice, a row
    pointing at the patient."""
    account = PortalAccount.objects.get(username=credentials[0])
    code, code_hash = access_reset_code_prepare()
    with transaction.atomic():
        access_reset_code_issue(patient_id=account.patient_id, code_hash=code_hash, now=timezone.now())
    reset = lambda: portal_reset_complete(  # noqa: E731
        username=account.username, code=code, new=NEW_PASSWORD, confirm=NEW_PASSWORD
    )
    runs_between_generate_news_locks(account, reset, monkeypatch)
    assert AuditEvent.objects.filter(action="reset_completed", patient_id=account.patient_id).exists()
    assert OutboxEmail.objects.filter(patient_id=account.patient_id).exclude(kind=OutboxEmail.Kind.RESET_CODE)


def test_a_patients_new_message_does_not_wait_on_the_patient_row(credentials, monkeypatch):
    account = PortalAccount.objects.get(username=credentials[0])
    write = lambda: message_thread_start(  # noqa: E731
        patient=account.patient, actor_account=account, subject="Sore tooth", body="Since Monday."
    )
    runs_between_generate_news_locks(account, write, monkeypatch)
    assert Thread.objects.filter(patient_id=account.patient_id, subject="Sore tooth").exists()
