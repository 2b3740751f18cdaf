from django.core.exceptions import ValidationError
from django.db import transaction

from molar.audit.services import Actor, audit_record
from molar.refusal import Refused

from .models import PracticeSettings

EDITABLE_FIELDS = (
    "practice_name",
    "practice_phone",
    "practice_email",
    "address1",
    "address2",
    "city",
    "state",
    "zip",
    "country",
    "portal_enabled",
    "patient_facing_url",
    "display_fields",
    "password_policy",
    "otp_max_age_days",
    "show_appointments",
    "show_account",
    "show_treatment_plan",
    "show_messages",
    "show_health_summary",
    "show_documents",
    "allow_guarantor_access",
    "require_staff_two_factor",
    "require_admin_two_factor",
)


# SPEC O2/O4: read from Open Dental's preferences while the sync is configured.
OPENDENTAL_FIELDS = ("practice_name", "practice_phone", "address1", "address2", "city", "state", "zip")
MANAGED_IN_OPENDENTAL = "Managed in Open Dental: change it there; the next sync brings it here."


def opendental_fields() -> tuple[str, ...]:
    from django.conf import settings

    return OPENDENTAL_FIELDS if settings.OPENDENTAL_DATABASE_URL else ()


@transaction.atomic
def practice_settings_update(*, actor: Actor, opendental: bool = False, **changes) -> PracticeSettings:
    """Validate and save practice settings; audit which fields changed (not their
    values: a settings row holds no secrets today, but the trail stays lean).
    `opendental`: the sync writing what Open Dental holds (SPEC O2); anyone else
    is refused a change to those fields while the sync is configured (O4)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise Refused(fields={name: [f"Unknown setting {name}."] for name in sorted(unknown)})
    practice = PracticeSettings.objects.select_for_update().get(pk=PracticeSettings.load().pk)
    if isinstance(changes.get("patient_facing_url"), str):
        changes["patient_facing_url"] = changes["patient_facing_url"].strip()
    changed = sorted(k for k, v in changes.items() if getattr(practice, k) != v)
    managed = [] if opendental else [name for name in changed if name in opendental_fields()]
    if managed:
        raise Refused(fields={name: [MANAGED_IN_OPENDENTAL] for name in managed})
    for name, value in changes.items():
        setattr(practice, name, value)
    try:
        practice.full_clean()
    except ValidationError as exc:
        raise Refused(fields=exc.message_dict) from None
    practice.save()
    if changed:
        audit_record(action="settings_changed", actor=actor, detail={"fields": changed})
    return practice


LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_SIDE = 2000
LOGO_TYPES = {"PNG": ("image/png", ".png"), "JPEG": ("image/jpeg", ".jpg")}
MSG_LOGO_TYPE = "The logo must be a PNG or JPEG image."
MSG_LOGO_SIZE = f"The logo must be at most {LOGO_MAX_BYTES // 1024} KB."
MSG_LOGO_SIDE = f"The logo must be at most {LOGO_MAX_SIDE} pixels wide and high."


def _logo_kind(data: bytes) -> tuple[str, str]:
    """(content type, extension) of a PNG or JPEG, judged by its content with
    Pillow (not by its name or the browser's word); refused otherwise."""
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise Refused(fields={"logo": [MSG_LOGO_TYPE]}) from None
    if kind not in LOGO_TYPES:
        raise Refused(fields={"logo": [MSG_LOGO_TYPE]})
    if width > LOGO_MAX_SIDE or height > LOGO_MAX_SIDE:
        raise Refused(fields={"logo": [MSG_LOGO_SIDE]})
    return LOGO_TYPES[kind]


def practice_logo_set(*, actor: Actor, upload) -> PracticeSettings:
    """SPEC V3: a new logo (or none with upload=None); the old file is removed."""
    from django.core.files.base import ContentFile

    content_type, suffix, data = "", "", b""
    if upload is not None:
        if upload.size > LOGO_MAX_BYTES:
            raise Refused(fields={"logo": [MSG_LOGO_SIZE]})
        data = upload.read(LOGO_MAX_BYTES + 1)
        content_type, suffix = _logo_kind(data)
    with transaction.atomic():
        practice = PracticeSettings.objects.select_for_update().get(pk=PracticeSettings.load().pk)
        old = practice.logo.name if practice.logo else ""
        if data:
            practice.logo.save(f"logo{suffix}", ContentFile(data), save=False)
        else:
            practice.logo = ""
        practice.logo_type = content_type
        practice.save()
        audit_record(action="settings_changed", actor=actor, detail={"fields": ["logo"], "removed": not data})
    if old and old != practice.logo.name:
        practice.logo.storage.delete(old)
    return practice
