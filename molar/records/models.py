"""The records behind the portal's tabs (SPEC L7). Rows are written only by
services.py; the portal reads them through selectors.py, always filtered by
the subject patient."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.translation import gettext_lazy as _

from molar.patients.models import Patient

MONEY = {"max_digits": 10, "decimal_places": 2}

# Under MEDIA_ROOT (MOLAR_HOME/media), which no URL serves: documents leave
# only through views that check who is asking. Readable by the server's user only.
_private = FileSystemStorage(file_permissions_mode=0o600, directory_permissions_mode=0o700)


def private_storage() -> FileSystemStorage:
    return _private


def document_path(instance: "Document", filename: str) -> str:
    # `filename` is a random name chosen by the service, never the uploader's.
    return f"documents/{instance.patient_id}/{filename}"


# --- Account -----------------------------------------------------------------------------


class LedgerEntry(models.Model):
    """One line of the patient's account. Charges are positive, payments and
    credits negative, so the balance is the plain sum."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("Charge")
        PAYMENT = "payment", _("Payment")
        ADJUSTMENT = "adjustment", _("Adjustment")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="ledger_entries")
    date = models.DateField()
    description = models.CharField(max_length=200)
    amount = models.DecimalField(**MONEY)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["patient", "date"], name="ledger_patient_date_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.description} {self.amount}"


class Statement(models.Model):
    """A statement of the entries dated in [period_start, period_end]; its PDF
    is built from the ledger each time it is asked for."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="statements")
    date = models.DateField()
    period_start = models.DateField()
    period_end = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_start__lte=models.F("period_end")), name="statement_period_in_order"
            ),
        ]

    def __str__(self) -> str:
        return f"Statement {self.date} ({self.period_start} to {self.period_end})"


# --- Treatment plans ---------------------------------------------------------------------


class TreatmentPlan(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ACCEPTED = "accepted", _("Accepted")
        INACTIVE = "inactive", _("Inactive")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="treatment_plans")
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.name


class PlannedProcedure(models.Model):
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="procedures")
    code = models.CharField(max_length=10, help_text="CDT code, e.g. D2391")
    description = models.CharField(max_length=200)
    tooth = models.CharField(max_length=10, blank=True)
    fee = models.DecimalField(**MONEY)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


# --- Health summary ----------------------------------------------------------------------


class Problem(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RESOLVED = "resolved", _("Resolved")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="problems")
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=20, blank=True, help_text="SNOMED CT or ICD-10-CM code, if known")
    onset = models.DateField("Onset date", null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        ordering = ["status", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Medication(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="medications")
    name = models.CharField(max_length=200)
    instructions = models.CharField("Dose and instructions", max_length=300, blank=True)
    start = models.DateField("Start date", null=True, blank=True)
    stop = models.DateField("Stop date", null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-active", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Allergy(models.Model):
    class Severity(models.TextChoices):
        MILD = "mild", _("Mild")
        MODERATE = "moderate", _("Moderate")
        SEVERE = "severe", _("Severe")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="allergies")
    substance = models.CharField(max_length=200)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-active", "substance", "id"]
        verbose_name_plural = "allergies"

    def __str__(self) -> str:
        return self.substance


# --- Documents ---------------------------------------------------------------------------


class Document(models.Model):
    """A file staff uploaded. Patients see it only while `show_in_portal` is set."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to=document_path, storage=private_storage, max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    show_in_portal = models.BooleanField("Show in portal", default=False)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.title
