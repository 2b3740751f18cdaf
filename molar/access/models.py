from typing import Any

from django.contrib.auth.hashers import check_password, is_password_usable, make_password
from django.db import models
from django.utils import timezone

from molar.patients.models import Patient

from .credentials import fold_username


class PortalAccount(models.Model):
    """A patient's portal credentials (SPEC A1). At most one per patient; the
    row and username stay when access is removed (SPEC A2)."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="portal_account")
    username = models.CharField(max_length=64)
    # SPEC U1: uniqueness under Unicode case folding, enforced by the database.
    # Folding can lengthen a name ("ß" -> "ss"); the service keeps it within 64.
    username_folded = models.CharField(max_length=64, unique=True, editable=False)
    password = models.CharField(max_length=255)
    require_password_change = models.BooleanField(default=True)
    require_username_change = models.BooleanField(default=False)
    password_set_at = models.DateTimeField(null=True, blank=True)
    last_login = models.DateTimeField(null=True, blank=True)
    # When staff last removed access (SPEC A2); automated invites leave such
    # patients alone until staff provide access again.
    removed_at = models.DateTimeField(null=True, blank=True)
    # SPEC U2: the username offer shown once after the first password change.
    username_offer_pending = models.BooleanField(default=False)
    # SPEC L6: consecutive failed sign-ins; at 100 the account is locked until
    # staff generate a new password (hard_locked_at set).
    failed_attempts = models.PositiveIntegerField(default=0)
    hard_locked_at = models.DateTimeField(null=True, blank=True)
    # SPEC L3: a single-use reset code, stored hashed, valid 24 hours.
    reset_code_hash = models.CharField(max_length=255, blank=True)
    reset_code_created_at = models.DateTimeField(null=True, blank=True)
    reset_code_failures = models.PositiveSmallIntegerField(default=0)
    # SPEC O2/O4: an account read from Open Dental's `userweb`: its row id and
    # a digest of what the sync last wrote. When the account no longer matches
    # that digest it was changed here (a sign-in re-hash, a new password, a
    # rename), and later syncs leave it alone.
    od_user_web_num = models.BigIntegerField(null=True, blank=True, editable=False)
    od_digest = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Not a column: set by portal_sign_in (molar/portal/services.py), whether
    # this sign-in still needs its second step (SPEC K2). Read elsewhere it
    # raises AttributeError, so no caller can skip the step by mistake.
    second_step_due: bool

    class Meta:
        permissions = [("manage_portal_access", "Can manage patient portal access")]

    def __str__(self) -> str:
        return self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
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
        from .policy import normalize_password

        return check_password(normalize_password(raw), self.password)


class AccessEvent(models.Model):
    """Measure events: the `OnlineAccessProvided` rows the dashboard counts (SPEC E1)."""

    class Kind(models.TextChoices):
        ONLINE_ACCESS_PROVIDED = "OnlineAccessProvided"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="access_events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    source = models.CharField(max_length=16)  # window, api, cli, invite, sheet, opendental
    # When access was provided: for an invite, when the mail server took the email
    # (SPEC I6); events read from Open Dental's `ehrmeasureevent` keep its time (SPEC O2).
    created_at = models.DateTimeField(default=timezone.now)
    od_event_num = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        indexes = [models.Index(fields=["kind", "patient", "created_at"])]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.patient_id} {self.created_at:%Y-%m-%d}"


class SignInFailure(models.Model):
    """One failed sign-in, counted per username (any case) and per client address."""

    class Scope(models.TextChoices):
        USERNAME = "username"  # a patient's portal username
        ADDRESS = "address"
        STAFF = "staff"  # a staff username (SPEC K1)

    scope = models.CharField(max_length=8, choices=Scope.choices)
    key = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "created_at"])]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} {self.created_at:%Y-%m-%d %H:%M:%S}"


class SignInLock(models.Model):
    """A time-limited lock on a username or a client address (SPEC L6)."""

    scope = models.CharField(max_length=8, choices=SignInFailure.Scope.choices)
    key = models.CharField(max_length=200)
    locked_until = models.DateTimeField()
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "locked_until"])]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} until {self.locked_until:%Y-%m-%d %H:%M}"


class ActivationToken(models.Model):
    """SPEC I2 [ActivationLink]: a single-use link, valid 7 days, that lets the
    patient set a password with no password in the email. Only a digest of
    the token is stored; `binding` ties it to the password hash it was issued
    against, so Generate New (a new hash) voids it."""

    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="activations")
    digest = models.CharField(max_length=64, unique=True)
    binding = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"activation for {self.account_id} until {self.expires_at:%Y-%m-%d}"
