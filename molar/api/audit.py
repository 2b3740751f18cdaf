import datetime
from typing import Literal

from ninja import Field, Query, Router, Schema
from pydantic import ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from molar.audit.context import StaffRequest
from molar.audit.models import AuditEvent
from molar.audit.permissions import MANAGE_SETTINGS
from molar.audit.selectors import DEFAULT_SORT, SORT_FIELDS, SORTS, audit_events
from molar.dates import window_refusal

from .base import Day, require

router = Router(tags=["audit"])

ActorType = Literal["staff", "patient", "representative", "system", "anonymous"]


def _blank_allowed(schema: dict) -> None:
    schema["anyOf"] = [*schema.get("anyOf", []), {"type": "string", "enum": [""]}]


class AuditFilters(Schema):
    # Blank is "any" (as the staff report's form sends it), and the document says so.
    start: Day | None = Field(None, json_schema_extra=_blank_allowed)
    end: Day | None = Field(None, json_schema_extra=_blank_allowed)
    patient: int | None = Field(None, ge=1, json_schema_extra=_blank_allowed)
    actor: str = Field("", max_length=150, description="actor name contains")
    actor_type: ActorType | None = Field(None, json_schema_extra=_blank_allowed)
    action: str = Field("", max_length=64, description="exact action; phi_* for a prefix")
    sort: str = Field(DEFAULT_SORT, description=f"one of {', '.join(SORT_FIELDS)}; - for descending")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)

    @field_validator("start", "end", "patient", "actor_type", mode="before")
    @classmethod
    def blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("sort")
    @classmethod
    def known_sort(cls, value: str) -> str:
        value = value or DEFAULT_SORT
        if value not in SORTS:
            raise PydanticCustomError(
                "sort",
                "Sort by one of {fields}, with - in front for descending.",
                {"fields": ", ".join(SORT_FIELDS)},
            )
        return value

    @field_validator("end")
    @classmethod
    def end_after_start(cls, value: datetime.date | None, info: ValidationInfo) -> datetime.date | None:
        refusal = window_refusal(info.data.get("start"), value)
        if refusal:
            raise PydanticCustomError("dates", refusal)
        return value


class EventOut(Schema):
    id: int
    created_at: datetime.datetime
    actor_type: str
    actor_id: int | None
    actor_label: str
    patient_id: int | None
    action: str
    outcome: str
    client_ip: str | None
    request_id: str
    detail: dict


@router.get("/audit", response=list[EventOut])
def list_audit_events(request: StaffRequest, filters: Query[AuditFilters]) -> list[AuditEvent]:
    """SPEC T2: the audit trail, filtered and sorted like the staff report (newest first)."""
    require(request, MANAGE_SETTINGS)
    events = audit_events(
        start=filters.start,
        end=filters.end,
        patient_id=filters.patient,
        actor=filters.actor.strip(),
        actor_type=filters.actor_type or "",
        action=filters.action.strip(),
        sort=filters.sort,
    )
    return list(events[filters.offset : filters.offset + filters.limit])
