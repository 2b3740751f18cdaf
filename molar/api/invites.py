import datetime
from typing import Literal

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from molar.audit.context import StaffRequest
from molar.audit.permissions import MANAGE_ACCESS, MANAGE_SETTINGS
from molar.audit.services import Actor
from molar.invites.models import Invite, InviteRule
from molar.invites.selectors import invites_filtered
from molar.invites.services import (
    invite_rule_create,
    invite_rule_delete,
    invite_rule_update,
    rule_warnings,
)

from .base import require, require_settings_reader

router = Router(tags=["invites"])

Timing = Literal["before", "after"]
Mode = Literal["until_visit", "every_appointment", "no_visit_in_days"]
InviteStatus = Literal["", "queued", "sending", "sent", "skipped", "failed"]


class RuleIn(Schema):
    timing: Timing
    days: int | None = Field(None, ge=0)
    hours: int | None = Field(None, ge=0)
    mode: Mode = "until_visit"
    revisit_days: int | None = Field(None, ge=1)
    enabled: bool = False
    subject: str | None = Field(None, max_length=200)
    body: str | None = Field(None, max_length=10_000)


class RulePatch(Schema):
    timing: Timing | None = None
    days: int | None = Field(None, ge=0)
    hours: int | None = Field(None, ge=0)
    mode: Mode | None = None
    revisit_days: int | None = Field(None, ge=1)
    enabled: bool | None = None
    subject: str | None = Field(None, max_length=200)
    body: str | None = Field(None, max_length=10_000)


class RuleOut(Schema):
    id: int
    timing: str
    days: int
    hours: int
    mode: str
    revisit_days: int
    enabled: bool
    subject: str
    body: str
    warnings: list[str]


class InviteOut(Schema):
    id: int
    patient_id: int
    rule_id: int | None
    appointment_id: int | None
    status: str
    reason: str
    attempts: int
    created_at: datetime.datetime
    sent_at: datetime.datetime | None


def _out(rule: InviteRule) -> dict:
    return {
        **{
            f: getattr(rule, f)
            for f in ("id", "timing", "days", "hours", "mode", "revisit_days", "enabled", "subject", "body")
        },
        "warnings": rule_warnings(rule),
    }


def _rule(rule_id: int) -> InviteRule:
    rule = InviteRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise Http404("Invite rule not found.")
    return rule


@router.get("/invite-rules", response=list[RuleOut])
def list_rules(request: StaffRequest) -> list[dict]:
    require_settings_reader(request)
    return [_out(rule) for rule in InviteRule.objects.all()]


@router.post("/invite-rules", response={201: RuleOut})
def create_rule(request: StaffRequest, payload: RuleIn) -> Status:
    """Left-out fields take SPEC I1's defaults for the timing (7 days before,
    1 hour after, 30-day revisit span, the default email)."""
    require(request, MANAGE_SETTINGS)
    fields = {k: v for k, v in payload.dict().items() if v is not None}
    return Status(201, _out(invite_rule_create(actor=Actor.staff(request.user), **fields)))


@router.get("/invite-rules/{rule_id}", response=RuleOut)
def get_rule(request: StaffRequest, rule_id: int) -> dict:
    require_settings_reader(request)
    return _out(_rule(rule_id))


@router.patch("/invite-rules/{rule_id}", response=RuleOut)
def update_rule(request: StaffRequest, rule_id: int, payload: RulePatch) -> dict:
    require(request, MANAGE_SETTINGS)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return _out(invite_rule_update(rule=_rule(rule_id), actor=Actor.staff(request.user), **changes))


@router.delete("/invite-rules/{rule_id}", response={204: None})
def delete_rule(request: StaffRequest, rule_id: int) -> Status:
    require(request, MANAGE_SETTINGS)
    invite_rule_delete(rule=_rule(rule_id), actor=Actor.staff(request.user))
    return Status(204, None)


@router.get("/invites", response=list[InviteOut])
def list_invites(
    request: StaffRequest,
    status: InviteStatus = "",
    patient: str = Query("", max_length=20),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> list[Invite]:
    """Newest first; `status` and `patient` (a patient number) are optional filters."""
    require(request, MANAGE_ACCESS)
    if patient and not patient.isdigit():
        raise HttpError(422, "patient must be a patient number.")
    rows = invites_filtered(status=status, patient_id=int(patient) if patient else None)
    return list(rows[offset : offset + limit])
