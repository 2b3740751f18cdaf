"""Secure messages between a patient (or their representative) and the
practice (SPEC L7 Messages, L8)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from molar.patients.models import Patient


class Thread(models.Model):
    """A conversation about one patient: `patient` is whose record it belongs
    to, which for a representative writing for a child is the child."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="message_threads")
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    # The time of the newest message: the inbox's order.
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["status", "updated_at", "id"], name="thread_status_updated_idx"),
            models.Index(fields=["patient", "updated_at", "id"], name="thread_patient_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Message(models.Model):
    class AuthorKind(models.TextChoices):
        PATIENT = "patient", "Patient"
        REPRESENTATIVE = "representative", "Representative"
        STAFF = "staff", "Staff"

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    body = models.TextField(max_length=5000)
    sent_at = models.DateTimeField(default=timezone.now)
    author_kind = models.CharField(max_length=16, choices=AuthorKind.choices)
    # As shown at the time of writing: "Maria Lopez (for Sofía)", "Ana Reyes".
    author_label = models.CharField(max_length=250)
    # Who wrote it on the patient side: the patient, or the representative's own record.
    author_patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages_written"
    )
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages_written",
    )
    read_by_staff_at = models.DateTimeField(null=True, blank=True)
    read_by_patient_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sent_at", "id"]
        indexes = [models.Index(fields=["thread", "sent_at", "id"], name="message_thread_sent_idx")]

    def __str__(self) -> str:
        return f"{self.author_label} {self.sent_at:%Y-%m-%d %H:%M}"

    @property
    def from_staff(self) -> bool:
        return self.author_kind == self.AuthorKind.STAFF
