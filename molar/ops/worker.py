"""`molar worker`: the background worker, until SIGTERM or SIGINT. Several
may run, on several machines, against one PostgreSQL database: every claim
uses row locks that other workers skip.

Each turn: write the heartbeat (/readyz reads it), scan for due invites when
a scan is due (and recover rows a dead worker left `sending`), send one batch
of invites, send one batch of outbox emails (SPEC Q2), then run the periodic
jobs of jobs.PERIODIC_JOBS. It sleeps only when a turn found nothing to do.

A transient database error (SPEC Q4) ends the turn: whatever it was doing
rolls back, connections are closed, and the turn is tried again after a
short wait. It never marks an invite or an email failed."""

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.db import close_old_connections, connections
from django.utils import timezone

from molar.invites.delivery import invites_recover, invites_scan, invites_send_due
from molar.leases import worker_name
from molar.outbox.services import outbox_recover, outbox_send_due
from molar.transient import is_transient

from .jobs import JobSchedule
from .services import worker_heartbeat

logger = logging.getLogger(__name__)

BEAT_EVERY = 5.0  # seconds between heartbeat writes, also during a long batch


@dataclass
class WorkerState:
    name: str
    started_at: datetime
    next_scan: float = 0.0
    last_beat: float = float("-inf")
    jobs: JobSchedule = field(default_factory=JobSchedule)


def run_worker(
    *,
    scan_every: float = 60.0,
    idle_sleep: float = 5.0,
    batch: int = 50,
    stop: threading.Event | None = None,
    name: str | None = None,
) -> None:
    """The loop; returns when `stop` is set (or on SIGTERM/SIGINT). `name`
    (host:pid by default) marks its claims and its heartbeat."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    state = WorkerState(name=name or worker_name(), started_at=timezone.now())
    logger.info("Worker %s started", state.name)
    try:
        while not stop.is_set():
            if not _safe_turn(state, scan_every, batch, idle_sleep, stop):
                stop.wait(max(0.05, min(idle_sleep, state.next_scan - time.monotonic())))
    finally:
        connections.close_all()  # also when run in a thread
    logger.info("Worker %s stopped", state.name)


def _safe_turn(
    state: WorkerState, scan_every: float, batch: int, idle_sleep: float, stop: threading.Event
) -> bool:
    """One turn; after a failed one, wait `idle_sleep` (and report it busy,
    so the loop does not wait twice)."""
    try:
        return worker_turn(state, scan_every=scan_every, batch=batch)
    except Exception as exc:  # noqa: BLE001 - e.g. the database restarting: wait and go on
        if is_transient(exc):
            logger.warning(
                "Worker %s: database unavailable (%s); trying again in %s s",
                state.name,
                type(exc).__name__,
                idle_sleep,
            )
        else:
            logger.exception("Worker %s: a turn failed; trying again in %s s", state.name, idle_sleep)
        connections.close_all()
        stop.wait(idle_sleep)
        return True


def worker_turn(state: WorkerState, *, scan_every: float, batch: int) -> bool:
    """True when there was work (so the next turn comes without a pause)."""
    close_old_connections()
    _beat(state)
    if time.monotonic() >= state.next_scan:
        created, recovered = invites_scan(), invites_recover() + outbox_recover()
        if created or recovered:
            logger.info("Scan: %s new invite(s), %s interrupted email(s)", created, recovered)
        state.next_scan = time.monotonic() + scan_every
    invites = invites_send_due(worker=state.name, limit=batch, progress=lambda _: _beat(state))
    emails = outbox_send_due(worker=state.name, limit=batch, progress=lambda _: _beat(state))
    for what, summary in (("Invites", invites), ("Emails", emails)):
        if summary.processed:
            logger.info(
                "%s: sent %s, skipped %s, retrying %s, failed %s",
                what,
                summary.sent,
                summary.skipped,
                summary.retried,
                summary.failed,
            )
    state.jobs.run_due()
    return bool(invites.processed or emails.processed)


def _beat(state: WorkerState) -> None:
    if time.monotonic() - state.last_beat >= BEAT_EVERY:
        worker_heartbeat(name=state.name, started_at=state.started_at)
        state.last_beat = time.monotonic()
