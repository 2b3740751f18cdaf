from django.core.exceptions import ValidationError
from django.db import transaction

from molar.audit.services import Actor, audit_record
from molar.refusal import Refused

from .models import MANAGED_IN_OPENDENTAL, Patient

EDITABLE_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "preferred_name",
    "address1",
    "address2",
    "city",
    "state",
    "zip",
    "birth_date",
    "home_phone",
    "wireless_phone",
    "work_phone",
    "email",
    "status",
    "guarantor",
    "responsible_party",
    "primary_provider",
    "external_id",
    "gender",
    "language",
    "clinic",
)
# SPEC O4: what Open Dental owns on a synced patient (all but Molar's external id).
OPENDENTAL_FIELDS = tuple(name for name in EDITABLE_FIELDS if name != "external_id")
MANAGED_MESSAGE = f"{MANAGED_IN_OPENDENTAL}: change it there; the next sync brings it here."


def patient_refused(errors: dict[str, list[str]]) -> Refused:
    """Problems by field; on its own (API, import report) a message names its
    field, which people type as a JSON key or CSV column."""
    return Refused(fields=errors, name_fields=True)


def _apply(patient: Patient, changes: dict) -> list[str]:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise patient_refused({name: ["Unknown field."] for name in sorted(unknown)})
    changed = []
    for name, value in changes.items():
        if isinstance(value, str):
            value = value.strip()
        if name == "state" and isinstance(value, str):
            value = value.upper()
        if name == "external_id" and value == "":
            value = None
        if getattr(patient, name) != value:
            changed.append(name)
            setattr(patient, name, value)
    try:
        patient.full_clean()
    except ValidationError as exc:
        raise patient_refused(exc.message_dict) from None
    return changed


def patient_lock(pk: int) -> Patient:
    """The patient, their row locked until the transaction ends. Staff writes
    to one patient take turns on it. FOR NO KEY UPDATE (SPEC Q3): rows that
    only point at the patient (an email in the outbox, an appointment, a
    message) are still written meanwhile; their foreign-key check takes a
    KEY SHARE lock, which FOR UPDATE would make wait, and a patient-side
    write waiting here while staff wait on its account row is a deadlock."""
    return Patient.objects.select_for_update(no_key=True).get(pk=pk)


@transaction.atomic
def patient_create(*, actor: Actor, **fields) -> Patient:
    patient = Patient()
    _apply(patient, fields)
    patient.save()
    audit_record(action="patient_created", actor=actor, patient_id=patient.pk)
    return patient


@transaction.atomic
def patient_update(*, patient: Patient, actor: Actor, **changes) -> Patient:
    patient = patient_lock(patient.pk)
    managed = patient.managed_by_opendental
    changed = _apply(patient, changes)
    refused = [name for name in changed if name in OPENDENTAL_FIELDS] if managed else []
    if refused:
        raise patient_refused({name: [MANAGED_MESSAGE] for name in refused})
    if changed:
        patient.save()
        # Field names only: values are health information.
        audit_record(
            action="patient_updated",
            actor=actor,
            patient_id=patient.pk,
            detail={"fields": sorted(changed)},
        )
    return patient


@transaction.atomic
def patient_guardians_replace(*, patient: Patient, actor: Actor, links: list[dict]) -> None:
    """Replace the patient's guardian links with `links` (guardian, relationship,
    is_guardian). One call, one transaction: no half-updated family."""
    from .models import GuardianLink

    patient = patient_lock(patient.pk)
    problems = [
        "A patient cannot be their own guardian." for link in links if link["guardian"].pk == patient.pk
    ]
    if problems:
        raise patient_refused({"guardian": problems[:1]})
    before = set(patient.guardian_links.values_list("guardian_id", "relationship", "is_guardian"))
    after = {(link["guardian"].pk, link["relationship"], link["is_guardian"]) for link in links}
    if before == after:
        return
    if patient.managed_by_opendental:
        raise patient_refused({"guardian": [MANAGED_MESSAGE]})
    patient.guardian_links.all().delete()
    GuardianLink.objects.bulk_create(GuardianLink(patient=patient, **link) for link in links)
    audit_record(
        action="guardians_changed",
        actor=actor,
        patient_id=patient.pk,
        detail={"guardians": sorted(g for g, _, _ in after)},
    )


@transaction.atomic
def patient_save_with_guardians(
    *, patient: Patient | None, actor: Actor, links: list[dict], **fields
) -> Patient:
    """Create (no `patient`) or change a patient together with their guardian
    links: both or neither, so a refused link leaves no half-saved patient."""
    if patient is None:
        patient = patient_create(actor=actor, **fields)
    else:
        patient = patient_update(patient=patient, actor=actor, **fields)
    patient_guardians_replace(patient=patient, actor=actor, links=links)
    return patient


APPOINTMENT_FIELDS = ("provider", "start", "duration_minutes", "status")


@transaction.atomic
def appointment_save(*, patient: Patient, actor: Actor, appointment=None, **fields):
    """Create (no `appointment`) or change an appointment of `patient`."""
    from .models import Appointment

    unknown = set(fields) - set(APPOINTMENT_FIELDS)
    if unknown:
        raise patient_refused({name: ["Unknown field."] for name in sorted(unknown)})
    creating = appointment is None
    if creating:
        appointment = Appointment(patient=patient)
    else:
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.managed_by_opendental:
            raise patient_refused({"__all__": [MANAGED_MESSAGE]})
    changed = sorted(name for name, value in fields.items() if getattr(appointment, name) != value)
    for name, value in fields.items():
        setattr(appointment, name, value)
    try:
        appointment.full_clean()
    except ValidationError as exc:
        raise patient_refused(exc.message_dict) from None
    appointment.save()
    audit_record(
        action="appointment_created" if creating else "appointment_updated",
        actor=actor,
        patient_id=patient.pk,
        detail={"appointment": appointment.pk, "fields": changed},
    )
    return appointment
