from typing import Any, NoReturn

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit record (SPEC T2, T6)."""


class AppendOnlyQuerySet(models.QuerySet):
    """The application's side of SPEC T6; the database's triggers are the other."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit records cannot be changed.")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        raise AppendOnlyError("Audit records cannot be changed.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Audit records cannot be deleted.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit records cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit records cannot be deleted.")


class AuditEvent(AppendOnlyModel):
    """One thing that happened to portal access or health information (SPEC T1).

    Written with one plain INSERT in the transaction of the action it records
    (SPEC T3): no lock, no read of another event. The worker seals committed
    events into a hash chain later (AuditSeal, SPEC T4). No secret ever goes
    into `detail`."""

    class Outcome(models.TextChoices):
        SUCCESS = "success"
        FAILURE = "failure"
        DENIED = "denied"

    class ActorType(models.TextChoices):
        STAFF = "staff"
        PATIENT = "patient"
        REPRESENTATIVE = "representative"
        SYSTEM = "system"
        ANONYMOUS = "anonymous"

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    # Plain ids, not foreign keys: an event outlives whatever it names.
    patient_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=64)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # PostgreSQL: the writing transaction's id, set by a trigger on INSERT
    # (pg_current_xact_id). The sealer uses it to find events whose
    # transaction committed after later ones were sealed (see sealing.py).
    # NULL on SQLite, where writers commit one at a time in id order.
    txid = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Each serves the report's ORDER BY created_at DESC, id DESC LIMIT 51,
        # unfiltered or filtered by patient or action, without sorting the table.
        indexes = [
            models.Index(fields=["created_at", "id"], name="audit_created_idx"),
            models.Index(fields=["patient_id", "created_at", "id"], name="audit_patient_created_idx"),
            models.Index(fields=["action", "created_at", "id"], name="audit_action_created_idx"),
            models.Index(fields=["txid"], name="audit_txid_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.outcome}"


class AuditSeal(AppendOnlyModel):
    """An event's place in the hash chain (SPEC T4): `position` counts from 1
    without gaps; `hash` = SHA-256(previous hash + the event's canonical
    content, its id included). Each event is sealed at most once (unique)."""

    position = models.BigIntegerField(primary_key=True)
    event = models.OneToOneField(
        AuditEvent, on_delete=models.PROTECT, related_name="seal", db_constraint=False
    )
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"seal {self.position} of event {self.event_id}"


class AuditCheckpoint(AppendOnlyModel):
    """A signed statement "the first `size` sealed events hash to `root`"
    (SPEC T5), recorded by every seal. Kept outside the database too (`molar
    audit checkpoint`), it shows events removed from the end and a chain
    rebuilt by someone without AUDIT_SIGNING_KEY."""

    size = models.BigIntegerField()
    root = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["size", "id"]
        indexes = [models.Index(fields=["size"], name="audit_checkpoint_size_idx")]

    def __str__(self) -> str:
        return f"checkpoint {self.size} {self.root[:12]}"


class SealState(models.Model):
    """The sealer's bookkeeping, one row (pk=1). Sealers lock it with SKIP
    LOCKED, so one seals at a time and the others move on; no request ever
    touches it. `horizon`: on PostgreSQL every event of a transaction id
    below it is sealed; on SQLite, every event id below it."""

    horizon = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"sealed below {self.horizon}"


class DeniedTally(models.Model):
    """SPEC T7: anonymous refusals counted per client address and minute; the
    worker turns each finished minute into one `access_denied` event with
    the count, so a flood cannot grow the audit table without bound."""

    client_ip = models.CharField(max_length=45, blank=True)  # "" when unknown
    minute = models.DateTimeField()
    action = models.CharField(max_length=64)
    count = models.PositiveIntegerField(default=0)
    first_path = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client_ip", "minute", "action"], name="one_tally_per_address_minute"
            )
        ]
        indexes = [models.Index(fields=["minute"], name="audit_tally_minute_idx")]

    def __str__(self) -> str:
        return f"{self.count} x {self.action} from {self.client_ip} at {self.minute:%H:%M}"
