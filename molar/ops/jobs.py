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
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
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
    # SPEC K1: staff sessions past the idle limit are audited as timeouts, and
    # expired sessions deleted.
    ("expired-sessions", 60, "molar.staffauth.session.staff_sessions_expire"),
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

    def run_due(self) -> list[str]:
        """Run every job that is due; returns the names of those that ran."""
        ran = []
        for name, every, path in list(PERIODIC_JOBS):
            interval = job_interval(every)
            if interval is None or self.clock() < self.next_run.get(name, float("-inf")):
                continue
            _run(name, path)
            ran.append(name)
            self.next_run[name] = self.clock() + interval
        return ran


def _run(name: str, path: str) -> None:
    try:
        import_string(path)()
    except Exception as exc:
        if is_transient(exc):
            raise  # the loop waits and tries the turn again; the job stays due
        logger.exception("Periodic job %s failed; it runs again at its next time", name)
