from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from molar.patients.models import Appointment, Patient

MAX_DAYS = 365  # SPEC I1: 366 days or more is refused


def validate_not_blank(value: str) -> None:
    if not (value or "").strip():
        raise ValidationError("This cannot be blank.")


class InviteRule(models.Model):
    """SPEC I1: when to email an invite around an appointment, and what it says."""

    class Timing(models.TextChoices):
        BEFORE = "before", "Before appointment"
        AFTER = "after", "After appointment"

    class Mode(models.TextChoices):
        UNTIL_VISIT = "until_visit", "Invite until patient visits Portal"
        EVERY_APPOINTMENT = "every_appointment", "Invite once per appointment"
        NO_VISIT_IN_DAYS = (
            "no_visit_in_days",
            "Invite once per appointment if patient has not visited Portal in N days",
        )

    timing = models.CharField(max_length=6, choices=Timing.choices)
    days = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(MAX_DAYS, message="Days must be less than 366.")]
    )
    hours = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(23, message="Hours must be from 0 to 23; use days for longer.")],
    )
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.UNTIL_VISIT)
    revisit_days = models.PositiveSmallIntegerField(
        "N days (for the 'has not visited' mode)",
        default=30,
        validators=[
            MinValueValidator(1, message="N days must be at least 1."),
            MaxValueValidator(MAX_DAYS, message="N days must be less than 366."),
        ],
    )
    enabled = models.BooleanField(default=False)
    subject = models.CharField(max_length=200, validators=[validate_not_blank])
    body = models.TextField(max_length=10_000, validators=[validate_not_blank])
    # SPEC V10: a Spanish version, as Open Dental's rules have a language per
    # rule; patients whose language is Spanish get it, others the one above.
    subject_es = models.CharField("Subject (Spanish)", max_length=200, blank=True)
    body_es = models.TextField("Body (Spanish)", max_length=10_000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["timing", "days", "hours", "id"]

    def __str__(self) -> str:
        return f"{self.days} days {self.hours} hours {self.get_timing_display().lower()}"

    @property
    def offset(self) -> timedelta:
        return timedelta(days=self.days, hours=self.hours)

    def template_for(self, language: str) -> tuple[str, str]:
        """(subject, body) in `language` when the rule has one, else the default."""
        if language == "es" and self.subject_es.strip() and self.body_es.strip():
            return self.subject_es, self.body_es
        return self.subject, self.body

    def clean(self) -> None:
        if bool(self.subject_es.strip()) != bool(self.body_es.strip()):
            raise ValidationError({"body_es": "Give the Spanish version a subject and a body, or neither."})


class BulkRun(models.Model):
    """SPEC I5: one bulk action over a filtered set of patients."""

    class Action(models.TextChoices):
        INVITE = "invite", "Send invites now"
        GRANT = "grant", "Provide access and print letters"

    action = models.CharField(max_length=8, choices=Action.choices)
    # The same selection (action, rule, criteria) is the same run: resuming it
    # never invites anyone twice.
    key = models.CharField(max_length=64, unique=True)
    rule = models.ForeignKey(InviteRule, null=True, blank=True, on_delete=models.SET_NULL)
    criteria = models.JSONField(default=dict)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    total = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.get_action_display()} #{self.pk}"


class PendingLetter(models.Model):
    """A patient a bulk grant gave access whose letter is not written yet
    (SPEC Q3, I7). A grant commits per patient; the passwords live only in
    memory until the letters file is complete. If the run stops before that,
    the next run over these patients gives each a new one-time password
    (the lost one was never seen by anyone) and writes their letter."""

    run = models.ForeignKey(BulkRun, on_delete=models.CASCADE, related_name="pending_letters")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="pending_letters")
    created_at = models.DateTimeField(auto_now_add=True)
    lettered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "patient"], name="one_letter_per_run_patient")]
        indexes = [models.Index(fields=["patient", "lettered_at"])]

    def __str__(self) -> str:
        return f"letter for {self.patient_id} in run {self.run_id}"


class Invite(models.Model):
    """One invite email (SPEC I4): recorded once per (rule, appointment), or
    once per (bulk run, patient), by database constraints."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    rule = models.ForeignKey(
        InviteRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="invites"
    )
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="invites"
    )
    bulk_run = models.ForeignKey(
        BulkRun, null=True, blank=True, on_delete=models.CASCADE, related_name="invites"
    )
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="invites")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(max_length=300, blank=True)
    recipient = models.EmailField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # SPEC I6: what the invite's credentials replaced, to put back if the
    # email finally fails (nobody received them), and whether the patient
    # had no access before (then access counts as provided only when the
    # mail server accepts the email). Hashes, never passwords; cleared when
    # the invite is finished.
    issued_hash = models.CharField(max_length=255, blank=True)
    prior_hash = models.CharField(max_length=255, blank=True)
    prior_one_time = models.BooleanField(default=False)
    grants_access = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "appointment"],
                name="one_invite_per_rule_appointment",
                condition=models.Q(rule__isnull=False, appointment__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["bulk_run", "patient"],
                name="one_invite_per_run_patient",
                condition=models.Q(bulk_run__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["patient", "created_at"]),
            models.Index(fields=["status", "claimed_until"]),
        ]

    def __str__(self) -> str:
        return f"invite {self.pk} {self.status}"
