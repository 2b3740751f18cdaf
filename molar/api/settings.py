from ninja import Field, Router, Schema

from molar.audit.context import StaffRequest
from molar.audit.permissions import MANAGE_SETTINGS
from molar.audit.services import Actor
from molar.practice.models import PracticeSettings
from molar.practice.services import practice_settings_update

from .base import require, require_settings_reader

router = Router(tags=["settings"])


class PortalSettingsOut(Schema):
    enabled: bool
    patient_facing_url: str
    practice_name: str
    practice_email: str
    practice_phone: str
    country: str
    password_policy: str


class PortalSettingsIn(Schema):
    enabled: bool | None = None
    patient_facing_url: str | None = Field(None, max_length=300)
    practice_name: str | None = Field(None, max_length=100)
    practice_email: str | None = Field(None, max_length=254)
    practice_phone: str | None = Field(None, max_length=30)
    country: str | None = Field(None, max_length=2)
    password_policy: str | None = Field(None, max_length=10)


def _out(practice: PracticeSettings) -> dict:
    return {
        "enabled": practice.portal_enabled,
        "patient_facing_url": practice.patient_facing_url,
        "practice_name": practice.practice_name,
        "practice_email": practice.practice_email,
        "practice_phone": practice.practice_phone,
        "country": practice.country,
        "password_policy": practice.password_policy,
    }


@router.get("/settings/portal", response=PortalSettingsOut)
def get_settings(request: StaffRequest) -> dict:
    require_settings_reader(request)
    return _out(PracticeSettings.load())


@router.put("/settings/portal", response=PortalSettingsOut)
def put_settings(request: StaffRequest, payload: PortalSettingsIn) -> dict:
    """Fields left out (or null) keep their current value."""
    require(request, MANAGE_SETTINGS)
    changes = {k: v for k, v in payload.dict().items() if v is not None}
    if "enabled" in changes:
        changes["portal_enabled"] = changes.pop("enabled")
    return _out(practice_settings_update(actor=Actor.staff(request.user), **changes))
