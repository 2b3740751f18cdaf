import datetime

from ninja import Query, Router, Schema
from ninja.errors import HttpError

from molar.audit.context import StaffRequest
from molar.audit.permissions import MANAGE_ACCESS
from molar.ehr.measures import DESCRIPTION, electronic_copy_access, period_refusal, with_names
from molar.patients.models import Provider

from .base import Day, require

router = Router(tags=["measures"])


class PatientRow(Schema):
    patient_id: int
    name: str
    first_visit: datetime.date
    deadline: datetime.date
    access_provided: datetime.date | None
    met: bool
    reason: str


class MeasureOut(Schema):
    measure: str
    description: str
    start: datetime.date
    end: datetime.date
    provider: int | None
    numerator: int
    denominator: int
    percentage: float | None
    threshold: int
    met: bool
    patients: list[PatientRow] | None


@router.get("/measures/electronic-copy-access", response=MeasureOut)
def electronic_copy_access_measure(
    request: StaffRequest,
    start: Day,
    end: Day,
    provider: int | None = Query(None, ge=1),
    patients: bool = True,
) -> dict:
    """SPEC E1. `patients=false` leaves out the per-patient list."""
    require(request, MANAGE_ACCESS)
    refusal = period_refusal(start, end, reversed_text="end is before start.")
    if refusal:
        raise HttpError(422, refusal)
    if provider is not None and not Provider.objects.filter(pk=provider).exists():
        raise HttpError(422, f"No provider {provider}.")
    result = electronic_copy_access(start=start, end=end, provider_id=provider)
    rows = (
        [
            {
                "patient_id": r.patient_id,
                "name": r.name,
                "first_visit": r.first_visit,
                "deadline": r.deadline,
                "access_provided": r.access_on,
                "met": r.met,
                "reason": r.reason,
            }
            for r in with_names(result.patients)
        ]
        if patients
        else None
    )
    return {
        "measure": "ElectronicCopyAccess",
        "description": DESCRIPTION,
        "start": start,
        "end": end,
        "provider": provider,
        "numerator": result.numerator,
        "denominator": result.denominator,
        "percentage": result.percentage,
        "threshold": result.threshold,
        "met": result.met,
        "patients": rows,
    }
