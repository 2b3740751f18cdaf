"""SPEC L7: the health summary as a FHIR R4 Bundle (type "collection") of
Patient, Condition, MedicationStatement and AllergyIntolerance, validated by
fhir.resources before it leaves. fhir.resources 8 defaults to R5; its R4B
models match R4 for these resources (see molar/patients/fhir_import.py)."""

import uuid

from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from molar.patients.models import Patient

from .models import Allergy, Medication, Problem
from .selectors import HealthSummary

# Entries refer to each other by urn:uuid; the same record always gets the same id.
_NAMESPACE = uuid.UUID("5b0c3f5e-6d2a-4f53-9a57-6d6f6c617200")
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"


def _url(kind: str, pk: int) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}/{pk}')}"


def _concept(system: str, code: str) -> dict:
    return {"coding": [{"system": system, "code": code}]}


def _patient(patient: Patient) -> dict:
    given = [n for n in (patient.first_name, patient.middle_name) if n]
    telecom = [
        {"system": "phone", "value": value, "use": use}
        for value, use in (
            (patient.home_phone, "home"),
            (patient.wireless_phone, "mobile"),
            (patient.work_phone, "work"),
        )
        if value
    ]
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "name": [{"use": "official", "family": patient.last_name or None, "given": given or None}],
        "telecom": telecom or None,
        "birthDate": patient.birth_date.isoformat() if patient.birth_date else None,
    }
    lines = [line for line in (patient.address1, patient.address2) if line]
    if lines or patient.city:
        resource["address"] = [
            {
                "line": lines or None,
                "city": patient.city or None,
                "state": patient.state or None,
                "postalCode": patient.zip or None,
            }
        ]
    return resource


def _condition(problem: Problem, subject: dict) -> dict:
    code = {"text": problem.name}
    if problem.code:
        # No system: staff type SNOMED CT or ICD-10-CM codes and we do not guess which.
        code["coding"] = [{"code": problem.code, "display": problem.name}]
    return {
        "resourceType": "Condition",
        "id": str(problem.pk),
        "clinicalStatus": _concept(CONDITION_CLINICAL, problem.status),
        "category": [_concept(CONDITION_CATEGORY, "problem-list-item")],
        "code": code,
        "subject": subject,
        "onsetDateTime": problem.onset.isoformat() if problem.onset else None,
    }


def _medication(medication: Medication, subject: dict) -> dict:
    period = {
        "start": medication.start.isoformat() if medication.start else None,
        "end": medication.stop.isoformat() if medication.stop else None,
    }
    return {
        "resourceType": "MedicationStatement",
        "id": str(medication.pk),
        "status": "active" if medication.active else "completed",
        "medicationCodeableConcept": {"text": medication.name},
        "subject": subject,
        "effectivePeriod": period if any(period.values()) else None,
        "dosage": [{"text": medication.instructions}] if medication.instructions else None,
    }


def _allergy(allergy: Allergy, subject: dict) -> dict:
    resource = {
        "resourceType": "AllergyIntolerance",
        "id": str(allergy.pk),
        "clinicalStatus": _concept(ALLERGY_CLINICAL, "active" if allergy.active else "inactive"),
        "code": {"text": allergy.substance},
        "patient": subject,
    }
    if allergy.reaction or allergy.severity:
        resource["reaction"] = [
            {
                "manifestation": [{"text": allergy.reaction or "Not recorded"}],
                "severity": allergy.severity or None,
            }
        ]
    return resource


def health_summary_bundle(summary: HealthSummary) -> Bundle:
    patient_url = _url("Patient", summary.patient.pk)
    subject = {"reference": patient_url, "display": summary.patient.full_name or None}
    entries = [(patient_url, _patient(summary.patient))]
    entries += [(_url("Condition", p.pk), _condition(p, subject)) for p in summary.problems]
    entries += [(_url("MedicationStatement", m.pk), _medication(m, subject)) for m in summary.medications]
    entries += [(_url("AllergyIntolerance", a.pk), _allergy(a, subject)) for a in summary.allergies]
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": timezone.now().isoformat(),
            "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries],
        }
    )


def health_summary_json(summary: HealthSummary) -> str:
    return health_summary_bundle(summary).model_dump_json(exclude_none=True)
