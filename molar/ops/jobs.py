"""Periodic jobs the worker runs after its email work (SPEC Q4).

To add a job, append one line to PERIODIC_JOBS; the loop in worker.py needs
no change:

    ("name", every, "dotted.path.to.function")

- `name`: a short label for logs.
- `every`: how often, in seconds: a number; or the name of a Django setting
  holding the number (e.g. "OPENDENTAL_SYNC_SECONDS"); or a callable taking
  nothing and returning the number. None or 0 turns the job off (e.g. no
  Open Dental database configured).
- the function is imported by its dotted path when first run, so this file
  imports no app, and is called with no arguments. It should do a bounded
  amount of work (a batch) and return: the worker's heartbeat, invites and
  emails wait while it runs. It runs first when the worker starts, then
  `every` seconds after it last finished.

A transient database error in a job is left to the worker loop (which waits
and tries the turn again); any other error is logged and the job is tried
again at its next time."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections
from django.utils.module_loading import import_string

from molar.transient import is_transient

logger = logging.getLogger(__name__)

Every = float | str | Callable[[], float | None]

PERIODIC_JOBS: list[tuple[str, Every, str]] = [
    ("outbox-prune", 3600, "molar.outbox.services.outbox_prune"),
    # SPEC T4: seal committed audit events into the chain, with a signed checkpoint.
    ("audit-seal", "AUDIT_SEAL_SECONDS", "molar.audit.sealing.audit_seal"),
    # SPEC T7: each finished minute's anonymous refusals become one event.
    ("audit-tallies", 30, "molar.audit.services.audit_flush_tallies"),
    # SPEC I7: sealed letters of a web bulk grant nobody opened within the hour.
    ("bulk-letters-prune", 300, "molar.invites.sealed.letters_prune"),
    # SPEC K1: staff sessions past the idle limit are audited as timeouts, and
    # expired sessions deleted.
    ("expired-sessions", 60, "molar.staffauth.session.staff_sessions_expire"),
    # SPEC Q1: the change rows behind the portal's kept pages, after a day.
    ("patient-changes-prune", 3600, "molar.patients.changes.patient_changes_prune"),
]

# Jobs that may run for minutes (a first Open Dental sync of a large practice)
# run in a thread of their own, so invites and emails never wait on them
# (SPEC Q3); one at a time each. Same shape as PERIODIC_JOBS.
BACKGROUND_JOBS: list[tuple[str, Every, str]] = [
    # SPEC O1: the function itself decides whether a pass is due (every
    # OPENDENTAL_SYNC_SECONDS, one process at a time); this only asks often.
    ("opendental-sync", "OPENDENTAL_POLL_SECONDS", "molar.opendental.services.opendental_sync_if_due"),
]


def job_interval(every: Every) -> float | None:
    if callable(every):
        every = every()
    elif isinstance(every, str):
        every = getattr(settings, every, None)
    return float(every) if every else None


@dataclass
class JobSchedule:
    """When each job is next due, on `clock` (monotonic seconds)."""

    clock: Callable[[], float] = time.monotonic
    next_run: dict[str, float] = field(default_factory=dict)
    running: dict[str, threading.Thread] = field(default_factory=dict)

    def _due(self, name: str, every: Every) -> float | None:
        interval = job_interval(every)
        if interval is None or self.clock() < self.next_run.get(name, float("-inf")):
            return None
        return interval

    def run_due(self) -> list[str]:
        """Run every job that is due; returns the names of those that ran or started."""
        ran = []
        for name, every, path in list(PERIODIC_JOBS):
            interval = self._due(name, every)
            if interval is None:
                continue
            _run(name, path)
            ran.append(name)
            self.next_run[name] = self.clock() + interval
        for name, every, path in list(BACKGROUND_JOBS):
            interval = self._due(name, every)
            if interval is None or (name in self.running and self.running[name].is_alive()):
                continue
            self.running[name] = _start(name, path)
            ran.append(name)
            self.next_run[name] = self.clock() + interval
        return ran

    def wait(self, timeout: float | None = None) -> None:
        """For a stopping worker: let background jobs finish their current step."""
        for thread in self.running.values():
            thread.join(timeout)


def _start(name: str, path: str) -> threading.Thread:
    def body() -> None:
        try:
            _run(name, path)
        except Exception:  # a transient error: the job is simply tried at its next time
            logger.warning("Background job %s hit a database error; it runs again at its next time", name)
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=body, name=f"job-{name}", daemon=True)
    thread.start()
    return thread


def _run(name: str, path: str) -> None:
    try:
        import_string(path)()
    except Exception as exc:
        if is_transient(exc):
            raise  # the loop waits and tries the turn again; the job stays due
        logger.exception("Periodic job %s failed; it runs again at its next time", name)
