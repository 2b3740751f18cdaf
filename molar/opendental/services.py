"""The Open Dental sync's entry points (SPEC O1-O3).

`opendental_sync` runs one pass now (`molar opendental sync`);
`opendental_sync_if_due` runs one when OPENDENTAL_SYNC_SECONDS have passed
since the last attempt, for the worker loop, and returns at once otherwise.
Either way only one pass runs at a time across processes: the pass claims a
lease on the status row under a row lock taken with SKIP LOCKED and held only
for the claim, never across the pass."""

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from molar.audit.models import AuditEvent
from molar.audit.services import audit_record
from molar.refusal import Refused

from .models import SyncPass, SyncState
from .passes import ACTOR, LeaseLost, Pass, lease_deadline, new_plan
from .reader import Source, SourceError, parse_url

logger = logging.getLogger(__name__)
KEEP_PASSES = 500
NOT_CONFIGURED = (
    "OPENDENTAL_DATABASE_URL is not set: set it to "
    "mysql://USER:PASSWORD@HOST:3306/DATABASE (a read-only Open Dental account)."
)


@dataclass(frozen=True)
class Progress:
    phase: str
    done: int


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:64]


def _state() -> SyncState:
    try:
        return SyncState.load()
    except IntegrityError:  # two processes created the row at once
        return SyncState.objects.get(pk=1)


def _due(state: SyncState, now) -> bool:
    last = state.last_attempt_at
    return last is None or (now - last).total_seconds() >= settings.OPENDENTAL_SYNC_SECONDS


def _claim(owner: str, *, due_only: bool) -> SyncState | None:
    """The lease, or None when another process holds it (or, with `due_only`,
    when no pass is due). The row lock lasts only for this transaction."""
    now = timezone.now()
    with transaction.atomic():
        state = SyncState.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if state is None:
            return None
        if state.lease_until and state.lease_until > now and state.lease_owner != owner:
            return None
        if due_only and not _due(state, now):
            return None
        state.lease_owner, state.lease_until, state.last_attempt_at = owner, lease_deadline(), now
        state.save(update_fields=["lease_owner", "lease_until", "last_attempt_at"])
    return state


def _release(owner: str) -> None:
    SyncState.objects.filter(pk=1, lease_owner=owner).update(lease_owner="", lease_until=None)


def opendental_sync(*, full: bool = False, url: str | None = None, progress=None) -> SyncPass:
    """Run one pass now; Refused (nothing changed) when it cannot start."""
    url = settings.OPENDENTAL_DATABASE_URL if url is None else url
    if not url:
        raise Refused(NOT_CONFIGURED)
    try:
        parse_url(url)
    except SourceError as exc:
        raise Refused(str(exc)) from None
    _state()
    owner = _owner()
    state = _claim(owner, due_only=False)
    if state is None:
        running = SyncState.objects.get(pk=1)
        raise Refused(
            f"An Open Dental sync pass is already running ({running.lease_owner}); "
            "try again when it has finished."
        )
    try:
        return _run(url=url, full=full, owner=owner, state=state, progress=progress)
    finally:
        _release(owner)


def opendental_sync_if_due() -> SyncPass | None:
    """For the worker loop: a pass when the URL is set and one is due; None at
    once otherwise (or when another process is running one). A failed pass is
    logged and recorded for the status page, never raised."""
    if not settings.OPENDENTAL_DATABASE_URL:
        return None
    state = SyncState.objects.filter(pk=1).first() or _state()
    now = timezone.now()
    if not _due(state, now) or (state.lease_until and state.lease_until > now):
        return None
    owner = _owner()
    state = _claim(owner, due_only=True)
    if state is None:
        return None
    try:
        return _run(url=settings.OPENDENTAL_DATABASE_URL, full=False, owner=owner, state=state)
    except Refused as exc:
        logger.warning("Open Dental sync: %s", exc)
        return None
    finally:
        _release(owner)


def _failed(record: SyncPass | None, message: str) -> None:
    if record is None:
        record = SyncPass(started_at=timezone.now())
    record.outcome, record.message, record.finished_at = SyncPass.Outcome.FAILED, message, timezone.now()
    record.save()


def _start(state: SyncState, full: bool, source: Source, server_now) -> tuple[SyncPass, dict]:
    """A new pass, or the interrupted one the checkpoint describes. A --full
    request does not resume an incremental pass (it starts a full one)."""
    checkpoint = state.checkpoint or {}
    record = SyncPass.objects.filter(pk=checkpoint.get("pass")).first() if checkpoint else None
    stale = SyncPass.objects.filter(outcome=SyncPass.Outcome.RUNNING)
    if record is not None and (checkpoint.get("full") or not full):
        stale.exclude(pk=record.pk).update(outcome=SyncPass.Outcome.FAILED, message="Interrupted.")
        record.outcome, record.resumed, record.message = SyncPass.Outcome.RUNNING, True, ""
        record.save(update_fields=["outcome", "resumed", "message"])
        return record, checkpoint
    stale.update(outcome=SyncPass.Outcome.FAILED, message="Interrupted.", finished_at=timezone.now())
    record = SyncPass.objects.create(started_at=timezone.now(), full=full)
    plan = new_plan(full=full, state=state, server_now=server_now, update_times=source.update_times())
    plan["pass"] = record.pk
    return record, plan


def _run(*, url: str, full: bool, owner: str, state: SyncState, progress=None) -> SyncPass:
    try:
        source = Source(url)
    except SourceError as exc:
        _failed(None, str(exc))
        raise Refused(str(exc)) from None
    record = None
    with source:
        try:
            source.preflight()
            server_now = source.server_now()
            record, plan = _start(state, full, source, server_now)
            work = Pass(source=source, record=record, plan=plan, owner=owner, progress=progress)
            started = time.monotonic()
            work.run()
        except (SourceError, LeaseLost) as exc:
            _failed(record, str(exc))
            _audit(record, AuditEvent.Outcome.FAILURE)
            raise Refused(str(exc)) from None
        except BaseException:
            # Ctrl-C or a bug: the checkpoint stays, the next pass resumes.
            _failed(record, "Interrupted; the next pass goes on from where this one stopped.")
            raise
    _finish(record, work, plan, owner, time.monotonic() - started)
    return record


def _finish(record: SyncPass, work: Pass, plan: dict, owner: str, seconds: float) -> None:
    from .passes import finish_state

    with transaction.atomic():
        SyncState.objects.filter(pk=1, lease_owner=owner).update(**finish_state({}, plan))
        for name, value in work.totals().items():
            setattr(record, name, value)
        record.detail = {k: dict(v) for k, v in work.detail.items()}
        record.problems, record.clashes = work.problems, work.clashes[:50]
        record.outcome, record.finished_at = SyncPass.Outcome.OK, timezone.now()
        record.save()
        _audit(record, AuditEvent.Outcome.SUCCESS)
    old = SyncPass.objects.order_by("-started_at", "-id").values_list("id", flat=True)[KEEP_PASSES:]
    SyncPass.objects.filter(pk__in=list(old[:1000])).delete()


def _audit(record: SyncPass | None, outcome: str) -> None:
    """One audit event per pass, with its counts (not one per patient)."""
    if record is None:
        return
    audit_record(
        action="opendental_synced",
        actor=ACTOR,
        outcome=outcome,
        detail={
            "pass": record.pk,
            "full": record.full,
            "added": record.added,
            "changed": record.changed,
            "archived": record.archived,
            "removed": record.removed,
            "accounts": record.accounts,
            "errors": record.errors,
            "clashes": len(record.clashes or []),
            **({"message": record.message} if record.message else {}),
        },
    )


def last_pass() -> SyncPass | None:
    return SyncPass.objects.order_by("-started_at", "-id").first()


def pass_summary(record: SyncPass) -> str:
    kind = "full" if record.full else "incremental"
    counts = (
        f"{record.added} added, {record.changed} changed, {record.archived} archived, "
        f"{record.removed} removed, {record.accounts} accounts, {record.errors} errors"
    )
    if record.outcome == SyncPass.Outcome.RUNNING:
        since = timezone.localtime(record.started_at)
        return f"Open Dental sync ({kind}) running since {since:%Y-%m-%d %H:%M:%S}: {counts}."
    when = timezone.localtime(record.finished_at or record.started_at)
    if record.outcome == SyncPass.Outcome.FAILED:
        return f"Open Dental sync ({kind}) failed at {when:%Y-%m-%d %H:%M:%S}: {record.message} ({counts})."
    return (
        f"Open Dental sync ({kind}) finished at {when:%Y-%m-%d %H:%M:%S} in {record.seconds:.1f} s: {counts}."
    )
