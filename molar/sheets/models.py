"""SPEC H1: sheet templates (letters, forms, dashboards) and the sheets made from them."""

from django.db import models

from molar.patients.models import Patient

# The tag that becomes the patient's portal credentials. Exact case only (SPEC H1):
# `[PatientPortalCredentials]` is ordinary text.
CREDENTIALS_TAG = "[patientPortalCredentials]"

# Fields a template may show, from a fixed list: a template cannot reach any
# other attribute of the patient or practice (hashes, ids, notes).
PATIENT_FIELD_CHOICES = [
    ("first_name", "First name"),
    ("middle_name", "Middle name"),
    ("last_name", "Last name"),
    ("preferred_name", "Preferred name"),
    ("full_name", "Full name"),
    ("birth_date", "Birth date"),
    ("address", "Address"),
    ("phone", "Phone"),
    ("email", "Email"),
]
PRACTICE_FIELD_CHOICES = [
    ("practice_name", "Practice name"),
    ("practice_phone", "Practice phone"),
    ("practice_email", "Practice email"),
    ("practice_address", "Practice address"),
]


class SheetTemplate(models.Model):
    class Kind(models.TextChoices):
        LETTER = "letter", "Letter"
        FORM = "form", "Form"
        DASHBOARD = "dashboard", "Dashboard"

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LETTER)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class SheetField(models.Model):
    """One item of a template, drawn top to bottom in `order`. Static text may
    hold several lines and the credentials tag; patient and practice fields show
    a value from the allow-list above, after an optional label in `text`."""

    class Kind(models.TextChoices):
        STATIC_TEXT = "static_text", "Static text"
        PATIENT_FIELD = "patient_field", "Patient field"
        PRACTICE_FIELD = "practice_field", "Practice field"

    template = models.ForeignKey(SheetTemplate, on_delete=models.CASCADE, related_name="fields")
    order = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.TextField(blank=True)
    field_name = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["template", "order", "id"]

    def __str__(self) -> str:
        return f"{self.template}: {self.order} {self.kind}"


class Sheet(models.Model):
    """A sheet made for a patient. `content` is the rendered lines as printed,
    except the one-time password, which is stored as asterisks (SPEC C4)."""

    class Credentials(models.TextChoices):
        NONE = "none", "No credentials tag"
        ISSUED = "issued", "Credentials printed"
        OMITTED = "omitted", "Credentials left out"

    # A deleted template leaves its sheets, which keep the name they were made under.
    template = models.ForeignKey(
        SheetTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="sheets"
    )
    template_name = models.CharField(max_length=100)
    practice_name = models.CharField(max_length=100, blank=True)  # the heading, as printed
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="sheets")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150)
    content = models.JSONField(default=list)
    credentials = models.CharField(max_length=8, choices=Credentials.choices, default=Credentials.NONE)
    # Why the credentials were left out (eligibility, settings), for staff.
    omitted_reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "created_at"])]

    def __str__(self) -> str:
        return f"{self.template_name} for {self.patient_id}"
