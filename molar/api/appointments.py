import datetime
from typing import Literal

from django.http import Http404
from ninja import Field, Router, Schema, Status

from molar.audit.context import StaffRequest
from molar.audit.permissions import CHANGE_PATIENTS, VIEW_PATIENTS
from molar.audit.services import Actor
from molar.patients.models import Appointment, Provider
from molar.patients.selectors import patient_for_staff, provider_by_abbreviation
from molar.patients.services import appointment_save, patient_refused

from .base import Moment, require

router = Router(tags=["appointments"])

AppointmentStatus = Literal["scheduled", "complete", "broken"]


class AppointmentIn(Schema):
    start: Moment = Field(description="ISO 8601 with offset, e.g. 2026-12-01T09:30:00-05:00")
    duration_minutes: int = Field(60, ge=5, le=720)
    provider: str | None = Field(None, max_length=20, description="provider abbreviation")
    status: AppointmentStatus = "scheduled"


class AppointmentPatch(Schema):
    start: Moment | None = None
    duration_minutes: int | None = Field(None, ge=5, le=720)
    provider: str | None = Field(None, max_length=20)
    status: AppointmentStatus | None = None


class AppointmentOut(Schema):
    id: int
    patient_id: int
    start: datetime.datetime
    duration_minutes: int
    provider: str | None
    status: str
    clinic: str | None = None
    opendental_aptnum: int | None = Field(None, description="AptNum when synced from Open Dental")
    managed_in_opendental: bool = Field(False, description="changes are refused (422)")


def _out(appointment: Appointment) -> dict:
    return {
        "id": appointment.pk,
        "patient_id": appointment.patient_id,
        "start": appointment.start,
        "duration_minutes": appointment.duration_minutes,
        "status": appointment.status,
        "provider": appointment.provider.abbreviation if appointment.provider else None,
        "clinic": str(appointment.clinic) if appointment.clinic else None,
        "opendental_aptnum": appointment.od_apt_num,
        "managed_in_opendental": appointment.managed_by_opendental,
    }


def _fields(data: dict) -> dict:
    if "provider" in data and data["provider"] is not None:
        provider = provider_by_abbreviation(data["provider"])
        if provider is None:
            raise patient_refused({"provider": [f"Unknown provider {data['provider']}."]})
        data["provider"] = provider
    return data


@router.get("/patients/{patient_id}/appointments", response=list[AppointmentOut])
def list_appointments(request: StaffRequest, patient_id: int) -> list[dict]:
    require(request, VIEW_PATIENTS, patient_id)
    patient = patient_for_staff(patient_id)
    appointments = patient.appointments.select_related("provider", "clinic").order_by("start")
    return [_out(a) for a in appointments[:1000]]


@router.post("/patients/{patient_id}/appointments", response={201: AppointmentOut})
def create_appointment(request: StaffRequest, patient_id: int, payload: AppointmentIn) -> Status:
    require(request, CHANGE_PATIENTS, patient_id)
    patient = patient_for_staff(patient_id)
    appointment = appointment_save(
        patient=patient, actor=Actor.staff(request.user), **_fields(payload.dict())
    )
    return Status(201, _out(appointment))


@router.patch("/appointments/{appointment_id}", response=AppointmentOut)
def update_appointment(request: StaffRequest, appointment_id: int, payload: AppointmentPatch) -> dict:
    require(request, CHANGE_PATIENTS)
    appointment = Appointment.objects.select_related("patient", "clinic").filter(pk=appointment_id).first()
    if appointment is None:
        raise Http404("Appointment not found.")
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None or k == "provider"}
    appointment = appointment_save(
        patient=appointment.patient,
        actor=Actor.staff(request.user),
        appointment=appointment,
        **_fields(changes),
    )
    return _out(appointment)


class ProviderOut(Schema):
    id: int
    name: str
    abbreviation: str
    opendental_provnum: int | None = Field(None, description="ProvNum when synced from Open Dental")


@router.get("/providers", response=list[ProviderOut], tags=["providers"])
def list_providers(request: StaffRequest) -> list[dict]:
    require(request, VIEW_PATIENTS)
    return [
        {"id": p.pk, "name": p.name, "abbreviation": p.abbreviation, "opendental_provnum": p.od_prov_num}
        for p in Provider.objects.order_by("name", "id")[:1000]
    ]
