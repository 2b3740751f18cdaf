import re
import threading
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction

LOCAL_HOSTS = ("localhost", "127.0.0.1")

# SPEC S4: rows the chart's Patient Information panel can show, in their default order.
DISPLAY_FIELD_CHOICES = [
    ("name", "Name"),
    ("preferred_name", "Preferred Name"),
    ("birth_date", "Birthdate"),
    ("age", "Age"),
    ("address", "Address"),
    ("phone", "Phone"),
    ("email", "Email"),
    ("status", "Status"),
    ("provider", "Primary Provider"),
    ("guarantor", "Guarantor"),
    ("patient_portal", "Patient Portal"),
]
DISPLAY_FIELD_LABELS = dict(DISPLAY_FIELD_CHOICES)
# "Patient Portal" is available but not shown until an administrator adds it.
DEFAULT_DISPLAY_FIELDS = [key for key, _ in DISPLAY_FIELD_CHOICES if key != "patient_portal"]


def is_local_http(url: str) -> bool:
    parts = urlsplit(url.strip())
    return parts.scheme.lower() == "http" and parts.hostname in LOCAL_HOSTS


def validate_patient_facing_url(url: str) -> None:
    """SPEC S2: https:// only (any letter case); http:// only for this computer."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    ok_scheme = scheme == "https" or (scheme == "http" and parts.hostname in LOCAL_HOSTS)
    if not ok_scheme:
        raise ValidationError(
            "Patient Facing URL must start with https:// "
            "(http:// is allowed only for localhost or 127.0.0.1).",
            code="scheme",
        )
    try:
        URLValidator(schemes=["http", "https"])(url.strip())
    except ValidationError:
        raise ValidationError("Patient Facing URL is not a valid web address.", code="invalid") from None
    if parts.username or parts.password:
        raise ValidationError("Patient Facing URL must not contain a user name or password.")


def validate_country(code: str) -> None:
    if not re.fullmatch(r"[A-Z]{2}", code or ""):
        raise ValidationError("Country must be a two-letter code such as US or CA.")


def validate_display_fields(value) -> None:
    if not isinstance(value, list) or any(v not in DISPLAY_FIELD_LABELS for v in value):
        raise ValidationError("Display fields must be chosen from the available rows.")
    if len(set(value)) != len(value):
        raise ValidationError("Each display field can be shown only once.")


class PracticeSettings(models.Model):
    """The practice's settings: one row (pk=1)."""

    class PasswordPolicy(models.TextChoices):
        SEED = "seed", "Seed: 8+ characters with upper, lower and digit"
        LENGTH = "length", "Length: 15+ characters"

    practice_name = models.CharField(max_length=100, blank=True)
    practice_phone = models.CharField(max_length=30, blank=True)
    practice_email = models.EmailField(blank=True)
    address1 = models.CharField("Address line 1", max_length=100, blank=True)
    address2 = models.CharField("Address line 2", max_length=100, blank=True)
    city = models.CharField(max_length=60, blank=True)
    state = models.CharField(max_length=30, blank=True)
    zip = models.CharField("ZIP", max_length=15, blank=True)
    country = models.CharField(
        max_length=2,
        default="US",
        validators=[validate_country],
        help_text="Two-letter country code; sets state rules and public holidays.",
    )
    # SPEC S1
    portal_enabled = models.BooleanField("Patient Portal enabled", default=False)
    # SPEC S2
    patient_facing_url = models.CharField(
        "Patient Facing URL",
        max_length=300,
        blank=True,
        validators=[validate_patient_facing_url],
    )
    # SPEC S4
    display_fields = models.JSONField(default=list, blank=True, validators=[validate_display_fields])
    # SPEC S3: the portal's tabs and family access.
    show_appointments = models.BooleanField("Show Appointments tab", default=True)
    show_account = models.BooleanField("Show Account tab", default=True)
    show_treatment_plan = models.BooleanField("Show Treatment Plan tab", default=True)
    show_messages = models.BooleanField("Show Messages tab", default=True)
    show_health_summary = models.BooleanField("Show Health Summary tab", default=True)
    show_documents = models.BooleanField("Show Documents tab", default=True)
    allow_guarantor_access = models.BooleanField(
        "Allow guarantor access to family health information", default=True
    )
    # SPEC S5 / C3
    password_policy = models.CharField(
        max_length=10, choices=PasswordPolicy.choices, default=PasswordPolicy.SEED
    )
    # SPEC C2: optional maximum age of a one-time password, in days.
    otp_max_age_days = models.PositiveIntegerField(
        "One-time password maximum age (days)", null=True, blank=True
    )
    # SPEC L6: sign-in throttling.
    lock_username_failures = models.PositiveSmallIntegerField("Failures that lock a username", default=10)
    lock_address_failures = models.PositiveSmallIntegerField(
        "Failures that block a client address", default=50
    )
    lock_window_minutes = models.PositiveSmallIntegerField("Failure counting window (minutes)", default=15)
    lock_minutes = models.PositiveSmallIntegerField("Lock length (minutes)", default=15)
    hard_lock_failures = models.PositiveIntegerField(
        "Consecutive failures that lock until staff generate a new password", default=100
    )
    # SPEC K2: on for every new install; `molar demo` turns both off (and its
    # staff pages say so); `check --deploy` warns while either is off.
    require_staff_two_factor = models.BooleanField("Require two-factor sign-in for staff", default=True)
    require_admin_two_factor = models.BooleanField(
        "Require two-factor sign-in for administrators", default=True
    )
    # SPEC V3: the logo on the sign-in page and every portal page (PNG or
    # JPEG, checked by content; served by a view, never from MEDIA directly).
    logo = models.FileField(upload_to="practice/", blank=True)
    logo_type = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "practice settings"
        permissions = [("manage_settings", "Can manage practice settings and rules")]

    def __str__(self) -> str:
        return self.practice_name or "Practice"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        transaction.on_commit(PracticeSettings.forget_cached)
        PracticeSettings.forget_cached()

    @classmethod
    def load(cls) -> "PracticeSettings":
        """Fresh from the database: for services that enforce a setting
        (SPEC S1, S2) and for the settings page."""
        obj, _ = cls.objects.get_or_create(pk=1, defaults={"display_fields": list(DEFAULT_DISPLAY_FIELDS)})
        return obj

    @classmethod
    def cached(cls) -> "PracticeSettings":
        """For pages, which read the settings on every request (SPEC Q1): at
        most one read per PRACTICE_SETTINGS_SECONDS per process. A change
        clears this process's copy at once and reaches the others within
        that time. Treat the result as read-only."""
        with _cache_lock:
            value, loaded_at = _cache.get("settings", (None, 0.0))
        if value is None or time.monotonic() - loaded_at > settings.PRACTICE_SETTINGS_SECONDS:
            value = cls.load()  # not under the lock: load() may save(), which clears the cache
            with _cache_lock:
                _cache["settings"] = (value, time.monotonic())
        return value

    @classmethod
    def forget_cached(cls) -> None:
        with _cache_lock:
            _cache.clear()

    def tab_enabled(self, tab: str) -> bool:
        return getattr(self, f"show_{tab}")

    @property
    def url_is_local_http(self) -> bool:
        return bool(self.patient_facing_url) and is_local_http(self.patient_facing_url)

    @property
    def practice_address(self) -> str:
        parts = [self.address1, self.address2, self.city, f"{self.state} {self.zip}".strip()]
        return ", ".join(p for p in parts if p)


class Clinic(models.Model):
    """A location of the practice. Filled by the Open Dental sync (SPEC O2) when
    the practice uses clinics there; `is_hidden` marks a retired clinic (Open
    Dental hides clinics instead of deleting them)."""

    name = models.CharField(max_length=255)
    abbreviation = models.CharField(max_length=255, blank=True)
    address1 = models.CharField("Address line 1", max_length=255, blank=True)
    address2 = models.CharField("Address line 2", max_length=255, blank=True)
    city = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=255, blank=True)
    zip = models.CharField("ZIP", max_length=255, blank=True)
    phone = models.CharField(max_length=255, blank=True)
    is_hidden = models.BooleanField(default=False)
    od_clinic_num = models.BigIntegerField("Open Dental ClinicNum", null=True, blank=True, unique=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name or self.abbreviation or f"Clinic #{self.pk}"


_cache: dict[str, tuple["PracticeSettings | None", float]] = {}
_cache_lock = threading.Lock()
