"""SPEC T4: sealing committed events into the hash chain, in batches.

Writers only INSERT (SPEC T3), so events can commit in any order: on
PostgreSQL an event with a small id may commit after events with larger
ids were sealed. The sealer therefore never relies on ids alone:

- Every event carries its transaction id (`txid`, stamped by a trigger).
- Before a pass the sealer reads the snapshot's xmin: every transaction
  below it has ended. The pass seals every committed, unsealed event whose
  txid is at or above the stored horizon (all below it are sealed), in id
  order, a batch per transaction, each batch with a signed checkpoint.
- Only when nothing is left does the horizon move up to that xmin. A late
  event (its transaction was still open) is at or above the horizon, so a
  later pass finds it and gives it the next position: sealed once, never
  skipped. AuditSeal.event is unique, and sealers take turns on the
  SealState row (SKIP LOCKED), so none is sealed twice.

On SQLite writers commit one at a time in id order, so the horizon is
simply an event id."""

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from .chain import CONTENT_FIELDS, GENESIS, link_hash
from .models import AuditCheckpoint, AuditEvent, AuditSeal, SealState
from .signing import sign_head

BATCH = 1000
BACKLOG_AGE = datetime.timedelta(minutes=5)  # SPEC T4: older unsealed events are a warning


@dataclass
class SealResult:
    sealed: int = 0
    busy: bool = False  # another sealer held the turn


def _xmin() -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        row = cursor.fetchone()
        return int(row[0]) if row and row[0] is not None else None


def _unsealed(horizon: int | None) -> QuerySet[AuditEvent]:
    rows = AuditEvent.objects.filter(~Exists(AuditSeal.objects.filter(event_id=OuterRef("pk"))))
    if horizon is not None:
        rows = (
            rows.filter(txid__gte=horizon)
            if connection.vendor == "postgresql"
            else rows.filter(id__gte=horizon)
        )
    return rows


def _head() -> tuple[int, str]:
    last = AuditSeal.objects.order_by("-position").values_list("position", "hash").first()
    return last or (0, GENESIS)


def _seal_batch(state: SealState, now: datetime.datetime) -> int:
    rows = list(_unsealed(state.horizon).order_by("id").values(*CONTENT_FIELDS)[:BATCH])
    if not rows:
        return 0
    position, prev = _head()
    seals = []
    for row in rows:
        position, prev = position + 1, link_hash(prev, row)
        seals.append(AuditSeal(position=position, event_id=row["id"], hash=prev))
    AuditSeal.objects.bulk_create(seals)
    head = sign_head(size=position, root=prev, time=now)
    AuditCheckpoint.objects.create(
        size=head.size, root=head.root, created_at=now, key_id=head.key_id, signature=head.signature
    )
    return len(rows)


def _next_horizon(xmin: int | None) -> int | None:
    if xmin is not None:
        return xmin
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return (last or 0) + 1


def audit_seal(*, max_batches: int = 100) -> SealResult:
    """Seal what has committed (SPEC T4); called by the worker and `molar audit seal`.
    Each batch is its own short transaction; sealers never block requests."""
    result = SealResult()
    xmin = _xmin()  # read before anything of ours could hold it back
    SealState.objects.get_or_create(pk=1)
    for _ in range(max_batches):
        with transaction.atomic():
            state = SealState.objects.select_for_update(skip_locked=True).filter(pk=1).first()
            if state is None:
                result.busy = True
                return result
            sealed = _seal_batch(state, timezone.now())
            result.sealed += sealed
            if sealed < BATCH:  # drained: everything below the new horizon is sealed
                if connection.vendor != "postgresql":
                    xmin = None
                state.horizon = _next_horizon(xmin)
                state.save(update_fields=["horizon", "updated_at"])
                return result
    return result


def unsealed_backlog(now: datetime.datetime | None = None) -> int:
    """Committed events older than five minutes that are not sealed yet: the
    worker is down or failing (SPEC T4)."""
    now = now or timezone.now()
    state = SealState.objects.filter(pk=1).first()
    return _unsealed(state.horizon if state else None).filter(created_at__lt=now - BACKLOG_AGE).count()


def backlog_warning() -> str:
    """For /readyz and `molar audit verify`: "" or one line."""
    count = unsealed_backlog()
    if not count:
        return ""
    return f"{count} audit event(s) older than 5 minutes are not sealed yet; is `molar worker` running?"
