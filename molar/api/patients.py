from typing import Literal

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ConfigDict

from molar.audit.services import Actor
from molar.patients.models import Patient
from molar.patients.selectors import patients_search
from molar.patients.services import patient_create, patient_update
from molar.staff import ADD_PATIENTS, CHANGE_PATIENTS, VIEW_PATIENTS

from .base import Day, require

router = Router(tags=["patients"])

PatientStatus = Literal["patient", "non_patient", "inactive", "archived", "deceased", "prospective"]


class PatientIn(Schema):
    """A patient as a whole. SPEC P4: a first and a last name, not blank
    (the rule itself is the model's, shared with the pages and imports)."""

    first_name: str = Field(max_length=100, min_length=1)
    middle_name: str = Field("", max_length=100)
    last_name: str = Field(max_length=100, min_length=1)
    preferred_name: str = Field("", max_length=100)
    address1: str = Field("", max_length=100)
    address2: str = Field("", max_length=100)
    city: str = Field("", max_length=60)
    state: str = Field("", max_length=30)
    zip: str = Field("", max_length=15)
    birth_date: Day | None = None
    home_phone: str = Field("", max_length=30)
    wireless_phone: str = Field("", max_length=30)
    work_phone: str = Field("", max_length=30)
    email: str = Field("", max_length=254)
    status: PatientStatus = "patient"


class PatientPatch(PatientIn):
    """The fields to change (at least one); those left out keep their values."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    first_name: str = Field(None, max_length=100, min_length=1)
    last_name: str = Field(None, max_length=100, min_length=1)


class PatientOut(PatientIn):
    id: int
    # Records from before SPEC P4 (or another system) may lack a name: shown as they are.
    first_name: str
    last_name: str


def patient_or_404(patient_id: int) -> Patient:
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise Http404("Patient not found.")
    return patient


@router.get("/patients", response=list[PatientOut])
def list_patients(
    request,
    q: str = Query("", max_length=200),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    require(request, VIEW_PATIENTS)
    return list(patients_search(q)[offset:offset + limit])


@router.post("/patients", response={201: PatientOut})
def create_patient(request, payload: PatientIn):
    require(request, ADD_PATIENTS)
    return Status(201, patient_create(actor=Actor.staff(request.user), **payload.dict()))


@router.get("/patients/{patient_id}", response=PatientOut)
def get_patient(request, patient_id: int):
    require(request, VIEW_PATIENTS, patient_id)
    return patient_or_404(patient_id)


@router.patch("/patients/{patient_id}", response=PatientOut)
def update_patient(request, patient_id: int, payload: PatientPatch):
    require(request, CHANGE_PATIENTS, patient_id)
    patient = patient_or_404(patient_id)
    changes = payload.dict(exclude_unset=True)
    if not changes:
        raise HttpError(422, "The request body names no field to change.")
    return patient_update(patient=patient, actor=Actor.staff(request.user), **changes)
