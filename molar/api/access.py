import datetime

from django.http import HttpResponse
from ninja import Field, Router, Schema, Status

from molar.access import services
from molar.access.models import PortalAccount
from molar.access.throttle import lock_state
from molar.audit.context import StaffRequest
from molar.audit.permissions import MANAGE_ACCESS
from molar.audit.services import Actor
from molar.patients.models import Patient
from molar.patients.selectors import patient_for_staff

from .base import Errors, require

router = Router(tags=["portal access"])


class AccessOut(Schema):
    has_access: bool
    username: str | None
    require_password_change: bool
    require_username_change: bool
    last_login: datetime.datetime | None
    locked: bool
    lock_reason: str


class ProvideOut(Schema):
    username: str
    password: str
    patient_facing_url: str


class UsernameIn(Schema):
    username: str = Field(max_length=200)


class PasswordIn(Schema):
    password: str = Field(max_length=1000)


class PrintoutIn(Schema):
    # Missing or empty: the service answers with SPEC W7's "Password required." message.
    password: str = Field("", max_length=1000)


class PasswordOut(Schema):
    password: str


def _patient(request: StaffRequest, patient_id: int) -> Patient:
    require(request, MANAGE_ACCESS, patient_id)
    return patient_for_staff(patient_id)


def _state(account: PortalAccount | None) -> dict:
    lock = lock_state(account) if account is not None else None
    return {
        "has_access": bool(account and account.has_access),
        "username": account.username if account else None,
        "require_password_change": bool(account and account.require_password_change),
        "require_username_change": bool(account and account.require_username_change),
        "last_login": account.last_login if account else None,
        "locked": bool(lock and lock.locked),
        "lock_reason": lock.reason if lock else "",
    }


@router.get("/patients/{patient_id}/portal-access", response=AccessOut)
def get_access(request: StaffRequest, patient_id: int) -> dict:
    patient = _patient(request, patient_id)
    return _state(PortalAccount.objects.filter(patient=patient).first())


@router.post("/patients/{patient_id}/portal-access", response={201: ProvideOut, 409: Errors})
def provide_access(request: StaffRequest, patient_id: int) -> Status:
    patient = _patient(request, patient_id)
    credentials = services.access_provide(patient=patient, actor=Actor.staff(request.user), source="api")
    return Status(201, credentials)


@router.delete("/patients/{patient_id}/portal-access", response={204: None, 409: Errors})
def remove_access(request: StaffRequest, patient_id: int) -> Status:
    patient = _patient(request, patient_id)
    services.access_remove(patient=patient, actor=Actor.staff(request.user))
    return Status(204, None)


@router.patch("/patients/{patient_id}/portal-access", response={200: AccessOut, 409: Errors})
def rename(request: StaffRequest, patient_id: int, payload: UsernameIn) -> dict:
    patient = _patient(request, patient_id)
    account = services.access_rename(
        patient=patient, actor=Actor.staff(request.user), username=payload.username
    )
    return _state(account)


@router.post("/patients/{patient_id}/portal-access/password", response={200: PasswordOut, 409: Errors})
def new_password(request: StaffRequest, patient_id: int, payload: PasswordIn | None = None) -> dict:
    """No body: generate a one-time password. `{"password"}`: set the typed one."""
    patient = _patient(request, patient_id)
    actor = Actor.staff(request.user)
    if payload is None:
        return {"password": services.access_generate_password(patient=patient, actor=actor)}
    services.access_set_password(patient=patient, actor=actor, password=payload.password)
    return {"password": payload.password}


@router.post(
    "/patients/{patient_id}/portal-access/printout",
    response={200: None, 409: Errors},
    openapi_extra={"responses": {"200": {"content": {"application/pdf": {}}}}},
)
def printout(request: StaffRequest, patient_id: int, payload: PrintoutIn | None = None) -> HttpResponse:
    patient = _patient(request, patient_id)
    pdf = services.access_printout(
        patient=patient,
        actor=Actor.staff(request.user),
        password=payload.password if payload else "",
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="online-access-{patient_id}.pdf"'
    return response
