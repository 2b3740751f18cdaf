from django.contrib.auth.hashers import check_password, is_password_usable, make_password
from django.db import models

from molar.patients.models import Patient

from .credentials import fold_username


class PortalAccount(models.Model):
    """A patient's portal credentials (SPEC A1). At most one per patient; the
    row and username stay when access is removed (SPEC A2)."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="portal_account")
    username = models.CharField(max_length=64)
    # SPEC U1: uniqueness under Unicode case folding, enforced by the database.
    username_folded = models.CharField(max_length=64, unique=True, editable=False)
    password = models.CharField(max_length=255)
    require_password_change = models.BooleanField(default=True)
    require_username_change = models.BooleanField(default=False)
    password_set_at = models.DateTimeField(null=True, blank=True)
    last_login = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [("manage_portal_access", "Can manage patient portal access")]

    def __str__(self) -> str:
        return self.username

    def save(self, *args, **kwargs):
        self.username_folded = fold_username(self.username)
        super().save(*args, **kwargs)

    @property
    def has_access(self) -> bool:
        return is_password_usable(self.password)

    def set_password(self, raw: str | None) -> None:
        # make_password(None) gives an unusable, random "!..." value, so the
        # hash always changes and sessions bound to the old one end (SPEC A2).
        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        return check_password(raw, self.password)


class AccessEvent(models.Model):
    """Measure events: the `OnlineAccessProvided` rows the dashboard counts (SPEC E1)."""

    class Kind(models.TextChoices):
        ONLINE_ACCESS_PROVIDED = "OnlineAccessProvided"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="access_events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    source = models.CharField(max_length=16)  # window, api, cli, invite, sheet
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "patient", "created_at"])]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.patient_id} {self.created_at:%Y-%m-%d}"
