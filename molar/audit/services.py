"""Writing audit events. Callers are the services that perform the action,
inside their own transaction, so an action and its event commit together
(SPEC T3): one plain INSERT, no lock, no read of any other event. Sealing
into the hash chain happens later, in the worker (sealing.py)."""

import datetime
import functools
import getpass
import ipaddress
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone

from .context import current
from .models import AuditEvent, DeniedTally

if TYPE_CHECKING:  # the access app imports this module
    from molar.access.models import PortalAccount


@dataclass(frozen=True)
class Actor:
    """Who did something: a staff user, a patient, or the system (CLI, worker)."""

    type: str
    id: int | None
    label: str

    @classmethod
    def staff(cls, user: AbstractBaseUser) -> "Actor":
        return cls(AuditEvent.ActorType.STAFF, user.pk, user.get_username())

    @classmethod
    def patient(cls, account: "PortalAccount") -> "Actor":
        """A patient (or representative) signed in with their portal account."""
        return cls(AuditEvent.ActorType.PATIENT, account.patient_id, account.username)

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(AuditEvent.ActorType.SYSTEM, None, label)

    @classmethod
    def cli(cls, label: str = "cli") -> "Actor":
        """A command run from a shell, naming the operating-system user (SPEC K8):
        "cli:alice". Every management command acts through this."""
        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no name for this uid (some containers)
            user = f"uid {os.getuid()}"
        return cls.system(f"{label}:{user}")

    @classmethod
    def anonymous(cls) -> "Actor":
        return cls(AuditEvent.ActorType.ANONYMOUS, None, "")


def _event(**fields: Any) -> AuditEvent:
    """An unsaved event holding exactly what the database will give back
    (normalized address, plain JSON), so its seal hash matches on reading."""
    fields["created_at"] = fields.get("created_at") or timezone.now()
    fields["actor_label"] = (fields.get("actor_label") or "")[:150]
    if fields.get("client_ip"):
        fields["client_ip"] = str(ipaddress.ip_address(fields["client_ip"]))
    # default=str: a translated message (a lazy string) is recorded as its text.
    fields["detail"] = json.loads(json.dumps(fields.get("detail") or {}, default=str))
    return AuditEvent(**fields)


def audit_record(
    *,
    action: str,
    actor: Actor,
    patient_id: int | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    detail: dict | None = None,
) -> AuditEvent:
    context = current.get()
    event = _event(
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
    _insert(event)
    return event


@functools.cache
def _insert_statement() -> tuple[str, tuple[Field, ...]]:
    """audit_record's INSERT, composed once per process: Model.save() composes
    it anew for each event, which costs more than the database's work, and
    every portal page writes one (SPEC Q1, T7). The values are prepared by
    each field exactly as save() prepares them."""
    meta = AuditEvent._meta
    fields = tuple(field for field in meta.concrete_fields if not field.primary_key)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join("%s" for _ in fields)
    table, key = quote(meta.db_table), quote(meta.pk.column)
    return f"INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING {key}", fields  # noqa: S608


def _insert(event: AuditEvent) -> None:
    sql, fields = _insert_statement()
    params = [field.get_db_prep_save(getattr(event, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        event.pk = cursor.fetchone()[0]
    event._state.adding, event._state.db = False, connection.alias


def audit_record_many(events: Iterable[dict], *, batch_size: int = 2000) -> int:
    """Append many events at once (imports, benchmark databases). Each dict
    holds AuditEvent field values (`created_at` optional, default now)."""
    written, batch = 0, []
    for fields in events:
        batch.append(_event(**fields))
        if len(batch) == batch_size:
            written += len(AuditEvent.objects.bulk_create(batch))
            batch = []
    return written + (len(AuditEvent.objects.bulk_create(batch)) if batch else 0)


# --- SPEC T7: anonymous refusals, counted rather than recorded one by one ---


def _minute(now: datetime.datetime) -> datetime.datetime:
    return now.replace(second=0, microsecond=0)


def audit_tally_denied(*, action: str = "access_denied", path: str = "") -> None:
    """Count one anonymous refusal for this client address and minute. A
    single upsert on a row of that address's own, so a flood from one
    address waits only on itself."""
    table = DeniedTally._meta.db_table
    address = current.get().client_ip or ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (client_ip, minute, action, count, first_path) "  # noqa: S608 (our table name)
            "VALUES (%s, %s, %s, 1, %s) ON CONFLICT (client_ip, minute, action) "
            f"DO UPDATE SET count = {table}.count + 1",
            [address, _minute(timezone.now()), action, path[:200]],
        )


def audit_flush_tallies(*, now: datetime.datetime | None = None) -> int:
    """Turn every finished minute's tallies into one event each (the worker
    runs this); returns how many events were written."""
    before = _minute(now or timezone.now())
    written = 0
    for tally_id in DeniedTally.objects.filter(minute__lt=before).values_list("id", flat=True)[:1000]:
        with transaction.atomic():
            tally = DeniedTally.objects.select_for_update(skip_locked=True).filter(pk=tally_id).first()
            if tally is None:
                continue
            AuditEvent.objects.bulk_create(
                [
                    _event(
                        action=tally.action,
                        actor_type=AuditEvent.ActorType.ANONYMOUS,
                        actor_id=None,
                        actor_label="",
                        outcome=AuditEvent.Outcome.DENIED,
                        client_ip=tally.client_ip or None,
                        detail={
                            "count": tally.count,
                            "minute": tally.minute.isoformat(),
                            "path": tally.first_path,
                        },
                    )
                ]
            )
            tally.delete()
            written += 1
    return written
