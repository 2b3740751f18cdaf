"""Writing audit events. Callers are the services that perform the action, inside
their own transaction, so an action and its audit row commit together."""

import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from .chain import GENESIS, event_hash
from .context import current
from .models import AuditEvent

# Any constant of our own: the pg_advisory_xact_lock key that serializes appends.
CHAIN_LOCK_KEY = 0x6D6F6C61725F61  # "molar_a"


@dataclass(frozen=True)
class Actor:
    """Who did something: a staff user, a patient, or the system (CLI, worker)."""

    type: str
    id: int | None
    label: str

    @classmethod
    def staff(cls, user) -> "Actor":
        return cls(AuditEvent.ActorType.STAFF, user.pk, user.get_username())

    @classmethod
    def patient(cls, account) -> "Actor":
        """A patient (or representative) signed in with their portal account."""
        return cls(AuditEvent.ActorType.PATIENT, account.patient_id, account.username)

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(AuditEvent.ActorType.SYSTEM, None, label)

    @classmethod
    def anonymous(cls) -> "Actor":
        return cls(AuditEvent.ActorType.ANONYMOUS, None, "")


def _chain_head() -> str:
    """The newest hash, read under a lock held until the caller's transaction
    ends, so two writers never chain to the same predecessor (SPEC T2).
    SQLite needs no lock: its transactions begin IMMEDIATE (one writer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    return AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS


def _event(*, prev_hash: str, **fields) -> AuditEvent:
    """An unsaved event whose fields hold exactly what the database will give
    back (microsecond UTC time, normalized address, plain JSON), then hashed."""
    fields["created_at"] = fields.get("created_at") or timezone.now()
    fields["actor_label"] = fields.get("actor_label", "")[:150]
    if fields.get("client_ip"):
        fields["client_ip"] = str(ipaddress.ip_address(fields["client_ip"]))
    fields["detail"] = json.loads(json.dumps(fields.get("detail") or {}))
    event = AuditEvent(prev_hash=prev_hash, **fields)
    event.hash = event_hash(prev_hash, event)
    return event


def audit_record(
    *,
    action: str,
    actor: Actor,
    patient_id: int | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    detail: dict | None = None,
) -> AuditEvent:
    context = current.get()
    with transaction.atomic():
        event = _event(
            prev_hash=_chain_head(),
            action=action,
            actor_type=actor.type,
            actor_id=actor.id,
            actor_label=actor.label,
            patient_id=patient_id,
            outcome=outcome,
            client_ip=context.client_ip,
            request_id=context.request_id,
            detail=detail,
        )
        event.save()
    return event


def audit_record_many(events: Iterable[dict], *, batch_size: int = 2000) -> int:
    """Append many events at once, chained like audit_record's: for imports
    and for filling benchmark databases. Each dict holds AuditEvent field
    values (`created_at` optional, default now). Returns how many were written."""
    written, batch = 0, []
    for fields in events:
        batch.append(fields)
        if len(batch) == batch_size:
            written += _append(batch)
            batch = []
    return written + (_append(batch) if batch else 0)


def _append(batch: list[dict]) -> int:
    with transaction.atomic():
        prev_hash, rows = _chain_head(), []
        for fields in batch:
            rows.append(_event(prev_hash=prev_hash, **fields))
            prev_hash = rows[-1].hash
        AuditEvent.objects.bulk_create(rows)
    return len(rows)
