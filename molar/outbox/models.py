"""The durable email outbox (SPEC Q2): every email that is not an invite is a
row written in the transaction of the action that caused it, and sent by the
worker exactly once (SPEC I4's rules, in molar/outbox/sending.py)."""

from django.db import models

from molar.patients.models import Patient

# SPEC Q2, L3: where a reset code goes in the body. The code is made when the
# worker sends the email and is never stored (only its hash, on the account).
RESET_CODE_SLOT = "[ResetCode]"


class DeliveryStatus(models.TextChoices):
    """The states of one email, the same for invites (SPEC I4)."""

    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class OutboxEmail(models.Model):
    class Kind(models.TextChoices):
        RESET_CODE = "reset_code", "Password reset code"
        PASSWORD_CHANGED = "password_changed", "Password changed notice"
        NEW_MESSAGE = "new_message", "New message notice"
        HEALTH_SUMMARY = "health_summary", "Health summary"

    Status = DeliveryStatus

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Whose email it is, for the audit trail and for issuing a reset code.
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox_emails"
    )
    recipient = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    attachment_name = models.CharField(max_length=100, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    attachment = models.BinaryField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["status", "claimed_until"], name="outbox_lease_idx"),
            models.Index(fields=["status", "updated_at"], name="outbox_done_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} email {self.pk} {self.status}"
