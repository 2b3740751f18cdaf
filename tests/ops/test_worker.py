"""SPEC Q4: the worker's turn (heartbeat, invite scan, invites, outbox emails,
periodic jobs), its job registry, and transient database errors that are
retried instead of failing an invite."""

import datetime
import importlib
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, transaction
from django.utils import timezone

from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.invites import delivery
from molar.invites.models import Invite
from molar.invites.services import invite_rule_create
from molar.ops import jobs, worker
from molar.ops.jobs import JobSchedule
from molar.ops.models import WorkerHeartbeat
from molar.ops.services import worker_heartbeat
from molar.ops.worker import WorkerState, worker_turn
from molar.outbox.models import OutboxEmail
from molar.outbox.sending import SendSummary
from molar.outbox.services import outbox_enqueue
from molar.patients.models import Appointment

ran: list[str] = []


def probe_job() -> None:
    ran.append("probe")


def broken_job() -> None:
    ran.append("broken")
    raise ValueError("bug")


def blip_job() -> None:
    ran.append("blip")
    raise OperationalError("could not serialize access")


@pytest.fixture(autouse=True)
def clean_probe():
    ran.clear()
    yield
    ran.clear()


def new_state() -> WorkerState:
    return WorkerState(name="test-worker", started_at=timezone.now())


def due_invite(complete_patient) -> None:
    invite_rule_create(actor=Actor.system("test"), timing="before", enabled=True)
    Appointment.objects.create(patient=complete_patient, start=timezone.now() + datetime.timedelta(days=2))


@pytest.mark.django_db(transaction=True)
def test_a_turn_beats_scans_sends_invites_and_emails_then_runs_jobs(
    practice, complete_patient, mailoutbox, monkeypatch
):
    monkeypatch.setattr(jobs, "PERIODIC_JOBS", [("probe", 3600, "tests.ops.test_worker.probe_job")])
    due_invite(complete_patient)
    with transaction.atomic():
        outbox_enqueue(
            kind="new_message", to="maria@example.com", subject="New message", body="Sign in to read it."
        )
    state = new_state()

    assert worker_turn(state, scan_every=60, batch=10) is True

    beat = WorkerHeartbeat.objects.get()
    assert beat.name == "test-worker" and timezone.now() - beat.last_seen < datetime.timedelta(seconds=5)
    assert Invite.objects.get().status == "sent" and OutboxEmail.objects.get().status == "sent"
    assert len(mailoutbox) == 2 and ran == ["probe"]
    assert worker_turn(state, scan_every=60, batch=10) is False  # nothing left; the job is not due
    assert ran == ["probe"]


def test_job_intervals_come_from_a_number_a_setting_or_a_callable(monkeypatch, settings):
    settings.PROBE_SECONDS = 30
    monkeypatch.setattr(
        jobs,
        "PERIODIC_JOBS",
        [
            ("every-10", 10, "tests.ops.test_worker.probe_job"),
            ("from-setting", "PROBE_SECONDS", "tests.ops.test_worker.probe_job"),
            ("from-callable", lambda: 20, "tests.ops.test_worker.probe_job"),
            ("turned-off", lambda: None, "tests.ops.test_worker.broken_job"),
            ("unset-setting", "NO_SUCH_SECONDS", "tests.ops.test_worker.broken_job"),
        ],
    )
    now = [1000.0]
    schedule = JobSchedule(clock=lambda: now[0])

    assert schedule.run_due() == ["every-10", "from-setting", "from-callable"]  # all due at start
    now[0] += 9.9
    assert schedule.run_due() == []
    now[0] += 0.1
    assert schedule.run_due() == ["every-10"]
    now[0] += 10
    assert schedule.run_due() == ["every-10", "from-callable"]
    now[0] += 10
    assert schedule.run_due() == ["every-10", "from-setting"]


def test_a_failing_job_is_logged_and_the_others_still_run(monkeypatch, caplog):
    monkeypatch.setattr(
        jobs,
        "PERIODIC_JOBS",
        [
            ("broken", 10, "tests.ops.test_worker.broken_job"),
            ("probe", 10, "tests.ops.test_worker.probe_job"),
        ],
    )
    now = [0.0]
    schedule = JobSchedule(clock=lambda: now[0])
    assert schedule.run_due() == ["broken", "probe"]
    assert "Periodic job broken failed" in caplog.text
    assert schedule.run_due() == []  # a failed job waits for its next time too


def test_a_transient_error_in_a_job_goes_to_the_loop_and_the_job_stays_due(monkeypatch):
    monkeypatch.setattr(jobs, "PERIODIC_JOBS", [("blip", 10, "tests.ops.test_worker.blip_job")])
    schedule = JobSchedule(clock=lambda: 0.0)
    with pytest.raises(OperationalError):
        schedule.run_due()
    with pytest.raises(OperationalError):
        schedule.run_due()
    assert ran == ["blip", "blip"]


@pytest.mark.django_db(transaction=True)
def test_transient_error_while_issuing_credentials_leaves_the_invite_queued(
    practice, complete_patient, mailoutbox, monkeypatch
):
    # SPEC Q4: the claim rolls back whole; the next turn sends the invite.
    due_invite(complete_patient)
    real, calls = delivery.access_issue_for_delivery, []

    def blip_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("deadlock detected")
        return real(**kwargs)

    monkeypatch.setattr(delivery, "access_issue_for_delivery", blip_once)
    state = new_state()

    with pytest.raises(OperationalError):
        worker_turn(state, scan_every=60, batch=10)
    invite = Invite.objects.get()
    assert (invite.status, invite.attempts, invite.reason) == ("queued", 0, "")
    assert not AuditEvent.objects.filter(action="invite_failed").exists()

    worker_turn(state, scan_every=60, batch=10)
    invite.refresh_from_db()
    assert invite.status == "sent" and invite.attempts == 1 and len(mailoutbox) == 1


def test_a_non_transient_error_while_issuing_still_fails_only_that_invite(before_rule_and_visit, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(delivery, "access_issue_for_delivery", broken)
    summary = delivery.invites_send_due(worker="test")
    assert summary.failed == 1
    assert Invite.objects.get().reason == "could not issue credentials: RuntimeError"


@pytest.fixture
def before_rule_and_visit(practice, complete_patient):
    due_invite(complete_patient)
    assert delivery.invites_scan() == 1


def test_worker_keeps_going_after_a_failed_turn(db, monkeypatch, caplog):
    stop, calls = threading.Event(), []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("the database is restarting")
        stop.set()
        return SendSummary()

    monkeypatch.setattr(worker, "invites_send_due", flaky)
    monkeypatch.setattr(worker, "outbox_send_due", lambda **kwargs: SendSummary())
    monkeypatch.setattr(worker, "invites_scan", lambda: 0)
    monkeypatch.setattr(worker, "invites_recover", lambda: 0)
    monkeypatch.setattr(worker, "outbox_recover", lambda: 0)
    monkeypatch.setattr(worker, "worker_heartbeat", lambda **kwargs: None)
    monkeypatch.setattr(jobs, "PERIODIC_JOBS", [])
    thread = threading.Thread(target=worker.run_worker, kwargs={"idle_sleep": 0.01, "stop": stop})
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive() and len(calls) == 2
    assert "database unavailable (OperationalError)" in caplog.text


def test_heartbeat_keeps_one_row_per_worker_and_forgets_old_ones(db):
    t0 = timezone.now()
    worker_heartbeat(name="a", started_at=t0, now=t0)
    worker_heartbeat(name="a", started_at=t0, now=t0 + datetime.timedelta(seconds=5))
    assert WorkerHeartbeat.objects.get().last_seen == t0 + datetime.timedelta(seconds=5)
    worker_heartbeat(name="b", started_at=t0, now=t0 + datetime.timedelta(days=8))
    assert list(WorkerHeartbeat.objects.values_list("name", flat=True)) == ["b"]


def test_worker_command_refuses_non_positive_times():
    with pytest.raises(CommandError, match="must be positive"):
        call_command("worker", "--scan-every", "0")
    with pytest.raises(CommandError, match="must be positive"):
        call_command("worker", "--idle-sleep", "-1")


def test_the_worker_lives_in_ops_only():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("molar.invites.management.commands.worker")
    assert importlib.import_module("molar.ops.management.commands.worker").Command


release = threading.Event()
started: list[str] = []


def slow_job() -> None:
    started.append("slow")
    release.wait(timeout=30)


def test_a_background_job_runs_in_its_own_thread_and_once_at_a_time(monkeypatch, db):
    """SPEC Q3: a long job (a first Open Dental sync) must not hold up invites
    and emails, and a second copy must not start while the first runs."""
    monkeypatch.setattr(jobs, "PERIODIC_JOBS", [])
    monkeypatch.setattr(jobs, "BACKGROUND_JOBS", [("slow", 60, "tests.ops.test_worker.slow_job")])
    started.clear()
    release.clear()
    now = [1000.0]
    schedule = JobSchedule(clock=lambda: now[0])
    assert schedule.run_due() == ["slow"]  # returned while the job still runs
    thread = schedule.running["slow"]
    assert thread.is_alive()
    now[0] += 61
    assert schedule.run_due() == []  # due again, but not twice at once
    release.set()
    thread.join(timeout=10)
    assert schedule.run_due() == ["slow"]
    schedule.wait(timeout=10)
    assert started == ["slow", "slow"]


def test_the_open_dental_sync_is_a_background_job_only_when_configured(settings):
    name, every, path = next(job for job in jobs.BACKGROUND_JOBS if job[0] == "opendental-sync")
    assert path == "molar.opendental.services.opendental_sync_if_due"
    settings.OPENDENTAL_POLL_SECONDS = 0
    assert jobs.job_interval(every) is None
