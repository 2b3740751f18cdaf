from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit event (SPEC T2)."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events cannot be changed.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("Audit events cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Audit events cannot be deleted.")

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if any(not obj.hash for obj in objs):
            raise AppendOnlyError("Audit events are written with audit_record(), which chains them.")
        return super().bulk_create(objs, *args, **kwargs)


class AuditEvent(models.Model):
    """One thing that happened to portal access or health information (SPEC T1).

    Append-only: `save()` refuses to update a stored row, and the queryset
    refuses bulk update and delete. No secret ever goes into `detail`.

    SPEC T2: each row carries `hash` = SHA-256(prev_hash + its content) and the
    previous row's hash (by id), so `molar audit verify` finds the first row
    changed or removed behind the application's back (see chain.py)."""

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

    # Set by audit_record before hashing (not auto_now_add, which would change
    # it after the hash was computed).
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
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # Each serves the report's ORDER BY created_at DESC, id DESC LIMIT 51,
        # unfiltered or filtered by patient or action, without sorting the table.
        indexes = [
            models.Index(fields=["created_at", "id"], name="audit_created_idx"),
            models.Index(fields=["patient_id", "created_at", "id"], name="audit_patient_created_idx"),
            models.Index(fields=["action", "created_at", "id"], name="audit_action_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.outcome}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Audit events cannot be changed.")
        if not self.hash:
            raise AppendOnlyError("Audit events are written with audit_record(), which chains them.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be deleted.")
