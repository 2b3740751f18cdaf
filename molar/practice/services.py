from django.core.exceptions import ValidationError
from django.db import transaction

from molar.audit.services import Actor, audit_record

from .models import PracticeSettings

EDITABLE_FIELDS = (
    "practice_name", "practice_phone", "practice_email", "address1", "address2", "city",
    "state", "zip", "country", "portal_enabled", "patient_facing_url", "display_fields",
    "password_policy", "otp_max_age_days",
    "show_appointments", "show_account", "show_treatment_plan", "show_messages",
    "show_health_summary", "show_documents", "allow_guarantor_access",
    "require_staff_two_factor", "require_admin_two_factor",
)


# SPEC O2/O4: read from Open Dental's preferences while the sync is configured.
OPENDENTAL_FIELDS = ("practice_name", "practice_phone", "address1", "address2", "city", "state", "zip")
MANAGED_IN_OPENDENTAL = "Managed in Open Dental: change it there; the next sync brings it here."


def opendental_fields() -> tuple[str, ...]:
    from django.conf import settings

    return OPENDENTAL_FIELDS if settings.OPENDENTAL_DATABASE_URL else ()


class SettingsInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(errors)

    @property
    def messages(self) -> list[str]:
        return [message for messages in self.errors.values() for message in messages]


@transaction.atomic
def practice_settings_update(*, actor: Actor, opendental: bool = False, **changes) -> PracticeSettings:
    """Validate and save practice settings; audit which fields changed (not their
    values: a settings row holds no secrets today, but the trail stays lean).
    `opendental`: the sync writing what Open Dental holds (SPEC O2); anyone else
    is refused a change to those fields while the sync is configured (O4)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise SettingsInvalid({name: [f"Unknown setting {name}."] for name in sorted(unknown)})
    practice = PracticeSettings.objects.select_for_update().get(pk=PracticeSettings.load().pk)
    if isinstance(changes.get("patient_facing_url"), str):
        changes["patient_facing_url"] = changes["patient_facing_url"].strip()
    changed = sorted(k for k, v in changes.items() if getattr(practice, k) != v)
    managed = [] if opendental else [name for name in changed if name in opendental_fields()]
    if managed:
        raise SettingsInvalid({name: [MANAGED_IN_OPENDENTAL] for name in managed})
    for name, value in changes.items():
        setattr(practice, name, value)
    try:
        practice.full_clean()
    except ValidationError as exc:
        raise SettingsInvalid(exc.message_dict) from None
    practice.save()
    if changed:
        audit_record(action="settings_changed", actor=actor, detail={"fields": changed})
    return practice
