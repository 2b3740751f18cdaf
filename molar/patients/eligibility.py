"""SPEC P3: may this patient be given portal credentials?"""

import re

from django.utils import timezone

from .models import EARLIEST_BIRTH_DATE, Patient


def eligibility_problems(patient: Patient, *, country: str) -> list[str]:
    """Every reason the patient cannot get access, in SPEC order; empty when eligible."""
    return [message for message, _ in eligibility_problem_fields(patient, country=country)]


def eligibility_problem_fields(patient: Patient, *, country: str) -> list[tuple[str, str]]:
    """(message, the patient form's field to fix) for each problem, so a page
    can link each one to its field (SPEC V8)."""
    problems = []
    if not patient.first_name.strip():
        problems.append(("Missing patient first name.", "first_name"))
    if not patient.last_name.strip():
        problems.append(("Missing patient last name.", "last_name"))
    if not patient.address1.strip():
        problems.append(("Missing patient address line 1.", "address1"))
    if not patient.city.strip():
        problems.append(("Missing patient city.", "city"))
    if country == "US" and not re.fullmatch(r"[A-Za-z]{2}", patient.state.strip()):
        problems.append(("Invalid patient state. Must be two letters.", "state"))
    birth = patient.birth_date
    if birth is None or birth < EARLIEST_BIRTH_DATE or birth > timezone.localdate():
        problems.append(("Missing patient birth date.", "birth_date"))
    if not any(p.strip() for p in (patient.home_phone, patient.wireless_phone, patient.work_phone)):
        problems.append(("Missing patient phone. Must have home, wireless, or work phone.", "wireless_phone"))
    if not patient.email.strip():
        problems.append(("Missing patient email.", "email"))
    return problems
