import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from molar.dates import FIRST_DAY, LAST_DAY, WINDOW_TEXT

from .languages import LANGUAGE_CHOICES

# The input rules of SPEC P4 and X4, in one place each. Every door (staff
# pages, API, CSV and FHIR imports, command line) saves through
# patient_create / patient_update / appointment_save, whose full_clean runs them.

EARLIEST_BIRTH_DATE = datetime.date(1880, 1, 1)
NAME_REQUIRED = {"first_name": "First name is required.", "last_name": "Last name is required."}
MANAGED_IN_OPENDENTAL = "Managed in Open Dental"


def opendental_configured() -> bool:
    from django.conf import settings

    return bool(settings.OPENDENTAL_DATABASE_URL)


def validate_birth_date(value: datetime.date) -> None:
    if value < EARLIEST_BIRTH_DATE or value > timezone.localdate():
        raise ValidationError("Birth date must be between 1880-01-01 and today.")


def validate_visit_start(value: datetime.datetime) -> None:
    """SPEC X4: visits from 1900 to 2100. Checked on the value as given (any
    offset), before anything converts it to UTC, which for a year-9999 time
    would overflow or store a year 10000 no page could read back."""
    day = value.date()
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(f"The visit must be {WINDOW_TEXT}.")


def name_problems(first_name: str, last_name: str) -> dict[str, list[str]]:
    """SPEC P4: a patient has a first and a last name, whoever saves it."""
    given = {"first_name": first_name, "last_name": last_name}
    return {field: [message] for field, message in NAME_REQUIRED.items() if not (given[field] or "").strip()}


class Provider(models.Model):
    name = models.CharField(max_length=100)
    abbreviation = models.CharField(max_length=20, unique=True)
    # Set for providers read from Open Dental (SPEC O2); they are managed there.
    od_prov_num = models.BigIntegerField("Open Dental ProvNum", null=True, blank=True, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Patient(models.Model):
    """A person in the practice's records (SPEC P1)."""

    class Status(models.TextChoices):
        PATIENT = "patient", "Patient"
        NON_PATIENT = "non_patient", "Non-patient"
        INACTIVE = "inactive", "Inactive"
        ARCHIVED = "archived", "Archived"
        DECEASED = "deceased", "Deceased"
        PROSPECTIVE = "prospective", "Prospective"

    class Gender(models.TextChoices):
        MALE = "male", "Male"
        FEMALE = "female", "Female"
        OTHER = "other", "Other"
        UNKNOWN = "unknown", "Unknown"

    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    preferred_name = models.CharField(max_length=100, blank=True)
    address1 = models.CharField("Address line 1", max_length=100, blank=True)
    address2 = models.CharField("Address line 2", max_length=100, blank=True)
    # As wide as Open Dental's columns, so a synced address is never cut.
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    zip = models.CharField("ZIP", max_length=100, blank=True)
    birth_date = models.DateField(null=True, blank=True, validators=[validate_birth_date])
    home_phone = models.CharField(max_length=30, blank=True)
    wireless_phone = models.CharField(max_length=30, blank=True)
    work_phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PATIENT)
    guarantor = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="guaranteed"
    )
    responsible_party = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="responsible_for"
    )
    primary_provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="patients"
    )
    gender = models.CharField(max_length=10, choices=Gender.choices, blank=True)
    # ISO 639-1 code ("en", "es"); blank when unknown. Picks the portal's language.
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, blank=True)
    clinic = models.ForeignKey(
        "practice.Clinic", null=True, blank=True, on_delete=models.SET_NULL, related_name="patients"
    )
    # The id in the system a record was imported from (CSV, FHIR, Open Dental PatNum).
    external_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # SPEC O2-O4: set for patients read from Open Dental. While the sync is
    # configured, their Open Dental fields are managed there (read-only here).
    # Guarantor and ResponsParty are kept as read, so the sync can link them
    # whatever order the rows arrive in.
    od_pat_num = models.BigIntegerField("Open Dental PatNum", null=True, blank=True, unique=True)
    od_guarantor = models.BigIntegerField(null=True, blank=True, editable=False)
    od_responsible = models.BigIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        return self.full_name or f"Patient #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("patients:chart", args=[self.pk])

    def clean(self) -> None:
        problems = name_problems(self.first_name, self.last_name)
        if problems:
            raise ValidationError(problems)

    @property
    def managed_by_opendental(self) -> bool:
        """SPEC O4: Open Dental owns this patient's record while the sync runs."""
        return self.od_pat_num is not None and opendental_configured()

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def phone(self) -> str:
        return self.home_phone or self.wireless_phone or self.work_phone

    def age_on(self, day: datetime.date) -> int | None:
        if not self.birth_date:
            return None
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


class GuardianLink(models.Model):
    """`guardian` is linked to `patient` (e.g. a parent to a child)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="guardian_links")
    guardian = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="ward_links")
    relationship = models.CharField(max_length=30)
    is_guardian = models.BooleanField(default=False)
    # Set for links read from Open Dental's `guardian` table (the lowest
    # GuardianNum when it has several rows for one pair).
    od_guardian_num = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "guardian"], name="one_link_per_pair"),
            models.CheckConstraint(
                condition=~models.Q(patient=models.F("guardian")), name="link_not_to_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guardian} is {self.relationship} of {self.patient}"


class Appointment(models.Model):
    """A visit, entered by staff (or imported). `complete` visits count for the
    dashboard (SPEC E1); `scheduled` ones drive invites (SPEC I1)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        COMPLETE = "complete", _("Complete")
        BROKEN = "broken", _("Broken")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="appointments")
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    start = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(5), MaxValueValidator(720)]
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    clinic = models.ForeignKey(
        "practice.Clinic", null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    # Set for appointments read from Open Dental (SPEC O2), which owns them.
    od_apt_num = models.BigIntegerField("Open Dental AptNum", null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["patient", "start"]),
            models.Index(fields=["start", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.patient} {timezone.localtime(self.start):%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.start is not None:
            try:
                validate_visit_start(self.start)
            except ValidationError as exc:
                raise ValidationError({"start": exc.messages}) from None

    @property
    def managed_by_opendental(self) -> bool:
        return self.od_apt_num is not None and opendental_configured()

    @property
    def end(self) -> datetime.datetime:
        return self.start + datetime.timedelta(minutes=self.duration_minutes)


class PatientChange(models.Model):
    """One row per change to what a patient's portal pages show, written by
    database triggers (molar/patients/changes.py), never by the application.
    Only ever inserted, so writers of different patients, or of one patient,
    never wait on each other; the worker deletes rows older than a day."""

    patient_id = models.BigIntegerField()
    changed_at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [models.Index(fields=["patient_id", "id"], name="patient_change_patient")]

    def __str__(self) -> str:
        return f"change {self.pk} of patient {self.patient_id}"
