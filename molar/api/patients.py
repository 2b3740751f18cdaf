from typing import Literal

from django.db.models import QuerySet
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ConfigDict

from molar.audit.context import StaffRequest
from molar.audit.permissions import ADD_PATIENTS, CHANGE_PATIENTS, VIEW_PATIENTS
from molar.audit.services import Actor
from molar.patients.models import Patient
from molar.patients.selectors import patient_for_staff, patients_search
from molar.patients.services import patient_create, patient_update

from .base import Day, require

router = Router(tags=["patients"])

PatientStatus = Literal["patient", "non_patient", "inactive", "archived", "deceased", "prospective"]
PatientGender = Literal["", "male", "female", "other", "unknown"]


class PatientIn(Schema):
    """A patient as a whole. SPEC P4: a first and a last name, not blank
    (the rule itself is the model's, shared with the pages and imports)."""

    first_name: str = Field(max_length=100, min_length=1)
    middle_name: str = Field("", max_length=100)
    last_name: str = Field(max_length=100, min_length=1)
    preferred_name: str = Field("", max_length=100)
    address1: str = Field("", max_length=100)
    address2: str = Field("", max_length=100)
    city: str = Field("", max_length=100)
    state: str = Field("", max_length=100)
    zip: str = Field("", max_length=100)
    birth_date: Day | None = None
    home_phone: str = Field("", max_length=30)
    wireless_phone: str = Field("", max_length=30)
    work_phone: str = Field("", max_length=30)
    email: str = Field("", max_length=254)
    status: PatientStatus = "patient"
    gender: PatientGender = ""
    language: str = Field("", max_length=8, description="ISO 639-1 code such as en or es; blank when unknown")


class GuardianOut(Schema):
    guardian_id: int
    relationship: str
    is_guardian: bool


class PatientPatch(PatientIn):
    """The fields to change (at least one); those left out keep their values."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    # Left out: unchanged (None is only the default); an explicit null is refused as not text.
    first_name: str = Field(None, max_length=100, min_length=1)  # type: ignore[assignment]
    last_name: str = Field(None, max_length=100, min_length=1)  # type: ignore[assignment]


class PatientOut(PatientIn):
    id: int
    # Records from before SPEC P4 (or another system) may lack a name: shown as they are.
    first_name: str
    last_name: str
    guarantor_id: int | None
    responsible_party_id: int | None
    primary_provider: str | None = Field(None, description="provider abbreviation")
    clinic: str | None = Field(None, description="clinic name")
    guardians: list[GuardianOut]
    opendental_patnum: int | None = Field(None, description="PatNum when synced from Open Dental")
    managed_in_opendental: bool = Field(
        False, description="Open Dental owns the synced fields: changing them is refused (422)"
    )

    @staticmethod
    def resolve_primary_provider(obj: Patient) -> str | None:
        return obj.primary_provider.abbreviation if obj.primary_provider else None

    @staticmethod
    def resolve_clinic(obj: Patient) -> str | None:
        return str(obj.clinic) if obj.clinic else None

    @staticmethod
    def resolve_guardians(obj: Patient) -> list[dict]:
        return [
            {
                "guardian_id": link.guardian_id,
                "relationship": link.relationship,
                "is_guardian": link.is_guardian,
            }
            for link in obj.guardian_links.all()
        ]

    @staticmethod
    def resolve_opendental_patnum(obj: Patient) -> int | None:
        return obj.od_pat_num

    @staticmethod
    def resolve_managed_in_opendental(obj: Patient) -> bool:
        return obj.managed_by_opendental


def _with_relations(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    return patients.select_related("primary_provider", "clinic").prefetch_related("guardian_links")


@router.get("/patients", response=list[PatientOut])
def list_patients(
    request: StaffRequest,
    q: str = Query("", max_length=200),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> list[Patient]:
    require(request, VIEW_PATIENTS)
    return list(_with_relations(patients_search(q))[offset : offset + limit])


@router.post("/patients", response={201: PatientOut})
def create_patient(request: StaffRequest, payload: PatientIn) -> Status:
    require(request, ADD_PATIENTS)
    patient = patient_create(actor=Actor.staff(request.user), **payload.dict())
    return Status(201, patient_for_staff(patient.pk))


@router.get("/patients/{patient_id}", response=PatientOut)
def get_patient(request: StaffRequest, patient_id: int) -> Patient:
    require(request, VIEW_PATIENTS, patient_id)
    return patient_for_staff(patient_id)


@router.patch("/patients/{patient_id}", response=PatientOut)
def update_patient(request: StaffRequest, patient_id: int, payload: PatientPatch) -> Patient:
    require(request, CHANGE_PATIENTS, patient_id)
    patient = patient_for_staff(patient_id)
    changes = payload.dict(exclude_unset=True)
    if not changes:
        raise HttpError(422, "The request body names no field to change.")
    patient_update(patient=patient, actor=Actor.staff(request.user), **changes)
    return patient_for_staff(patient_id)
