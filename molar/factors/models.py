"""Second factors (SPEC K2): TOTP authenticator apps, passkeys and recovery
codes, for a staff user or a patient's portal account (exactly one owner)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

ONE_OWNER = (Q(user__isnull=False) & Q(account__isnull=True)) | (
    Q(user__isnull=True) & Q(account__isnull=False)
)


class SecondFactor(models.Model):
    class Kind(models.TextChoices):
        TOTP = "totp", _("Authenticator app")
        PASSKEY = "passkey", _("Passkey")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="second_factors",
    )
    account = models.ForeignKey(
        "access.PortalAccount", null=True, blank=True, on_delete=models.CASCADE, related_name="second_factors"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=60)
    # TOTP: the shared secret, sealed (molar/secretbox.py); the last time step
    # accepted, so a code works once (RFC 6238 section 5.2).
    secret = models.CharField(max_length=300, blank=True)
    last_step = models.BigIntegerField(null=True, blank=True)
    # Passkey: WebAuthn credential id (base64url), COSE public key, signature counter.
    credential_id = models.CharField(max_length=1400, blank=True)
    public_key = models.BinaryField(null=True, blank=True)
    sign_count = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=ONE_OWNER, name="factor_one_owner"),
            models.UniqueConstraint(
                fields=["credential_id"], condition=~Q(credential_id=""), name="factor_credential_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"


class RecoveryCode(models.Model):
    """One of ten single-use codes, shown once and stored hashed (SPEC K2).
    `lookup` is 16 bits of a keyed digest: it picks the row to verify, so a
    guess costs one password hash, not ten."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="recovery_codes",
    )
    account = models.ForeignKey(
        "access.PortalAccount", null=True, blank=True, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    lookup = models.CharField(max_length=8)
    hashed = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=ONE_OWNER, name="recovery_one_owner")]

    def __str__(self) -> str:
        return f"recovery code {self.pk} ({'used' if self.used_at else 'unused'})"
