"""SPEC I2: invite templates and their tags."""

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone

TAGS = (
    "NameF",
    "NamePreferredOrFirst",
    "OfficeName",
    "OfficePhone",
    "ApptDate",
    "ApptTime",
    "UserName",
    "Password",
    "PatientPortalURL",
    "ActivationLink",
)
TAG = re.compile(r"\[([A-Za-z]+)\]")
MASKED_PASSWORD = "*******"  # noqa: S105 (the mask, not a password)


def unknown_tags(*texts: str) -> list[str]:
    """Tags that will stay as typed, so the rule editor can point them out."""
    found = {f"[{name}]" for text in texts for name in TAG.findall(text or "") if name not in TAGS}
    return sorted(found)


def mask_username(username: str) -> str:
    """First letter, 7 stars, last letter (SPEC I2)."""
    if len(username) < 2:
        return "*" * 7
    return f"{username[0]}*******{username[-1]}"


@dataclass(frozen=True)
class InviteValues:
    first_name: str
    preferred_name: str
    office_name: str
    office_phone: str
    appointment_start: datetime.datetime | None  # aware datetime, or None for a bulk invite
    username: str
    password: str
    portal_url: str
    activation_link: str

    def as_tags(self) -> dict[str, str]:
        start = timezone.localtime(self.appointment_start) if self.appointment_start else None
        return {
            "NameF": self.first_name,
            "NamePreferredOrFirst": self.preferred_name or self.first_name,
            "OfficeName": self.office_name,
            "OfficePhone": self.office_phone,
            "ApptDate": f"{start:%A, %B} {start.day}, {start.year}" if start else "",
            "ApptTime": start.strftime("%I:%M %p").lstrip("0") if start else "",
            "UserName": self.username,
            "Password": self.password,
            "PatientPortalURL": self.portal_url,
            "ActivationLink": self.activation_link,
        }


def render(template: str, values: InviteValues) -> str:
    tags = values.as_tags()
    return TAG.sub(lambda m: tags.get(m.group(1), m.group(0)), template)


DEFAULT_SUBJECT = {
    "before": "Your appointment at [OfficeName]: your patient portal",
    "after": "Thank you for visiting [OfficeName]: your patient portal",
}
DEFAULT_BODY = {
    "before": (
        "Dear [NamePreferredOrFirst],\n\n"
        "You have an appointment at [OfficeName] on [ApptDate] at [ApptTime].\n\n"
        "In our patient portal you can see your appointments and your health information.\n"
        "Set your password with this link (it works once, for 7 days):\n[ActivationLink]\n\n"
        "Your user name: [UserName]\nPortal address: [PatientPortalURL]\n\n"
        "Questions? Call us at [OfficePhone].\n"
    ),
    "after": (
        "Dear [NamePreferredOrFirst],\n\n"
        "Thank you for your visit to [OfficeName] on [ApptDate].\n\n"
        "Your health information is now in our patient portal.\n"
        "Set your password with this link (it works once, for 7 days):\n[ActivationLink]\n\n"
        "Your user name: [UserName]\nPortal address: [PatientPortalURL]\n\n"
        "Questions? Call us at [OfficePhone].\n"
    ),
}

# SPEC V10: Spanish versions, offered in the demo and as an example for practices.
SPANISH_SUBJECT = {
    "before": "Su cita en [OfficeName]: su portal del paciente",
    "after": "Gracias por visitar [OfficeName]: su portal del paciente",
}
SPANISH_BODY = {
    "before": (
        "Estimado/a [NamePreferredOrFirst]:\n\n"
        "Tiene una cita en [OfficeName] el [ApptDate] a las [ApptTime].\n\n"
        "En nuestro portal del paciente puede ver sus citas y su información de salud.\n"
        "Elija su contraseña con este enlace (sirve una vez, durante 7 días):\n[ActivationLink]\n\n"
        "Su nombre de usuario: [UserName]\nDirección del portal: [PatientPortalURL]\n\n"
        "¿Preguntas? Llámenos al [OfficePhone].\n"
    ),
    "after": (
        "Estimado/a [NamePreferredOrFirst]:\n\n"
        "Gracias por su visita a [OfficeName] el [ApptDate].\n\n"
        "Su información de salud ya está en nuestro portal del paciente.\n"
        "Elija su contraseña con este enlace (sirve una vez, durante 7 días):\n[ActivationLink]\n\n"
        "Su nombre de usuario: [UserName]\nDirección del portal: [PatientPortalURL]\n\n"
        "¿Preguntas? Llámenos al [OfficePhone].\n"
    ),
}
