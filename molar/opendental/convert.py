"""Open Dental values as Molar's (SPEC O2, facts in ../shared/opendental-schema.md).

Old text columns may be NULL: NULL and '' are alike. A date before 1880 is
"no date". `datetime` columns are the practice's wall clock (Molar's
TIME_ZONE); `timestamp` columns arrive in UTC (the reader's session)."""

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from molar.patients.languages import language_code
from molar.patients.models import Appointment, Patient

EARLIEST = 1880

PATIENT_STATUS = {
    0: Patient.Status.PATIENT,
    1: Patient.Status.NON_PATIENT,
    2: Patient.Status.INACTIVE,
    3: Patient.Status.ARCHIVED,
    4: Patient.Status.ARCHIVED,  # 4 Deleted: archived here
    5: Patient.Status.DECEASED,
    6: Patient.Status.PROSPECTIVE,
}
DELETED = 4
GENDER = {
    0: Patient.Gender.MALE,
    1: Patient.Gender.FEMALE,
    2: Patient.Gender.UNKNOWN,
    3: Patient.Gender.OTHER,
}
# Only these are visits; UnschedList, Planned, PtNote and the rest are not (schema file).
APPOINTMENT_STATUS = {
    1: Appointment.Status.SCHEDULED,
    2: Appointment.Status.COMPLETE,
    5: Appointment.Status.BROKEN,
}
MINUTES_PER_PATTERN_CHARACTER = 5
RELATIONSHIP = (
    "Father",
    "Mother",
    "Stepfather",
    "Stepmother",
    "Grandfather",
    "Grandmother",
    "Sitter",
    "Brother",
    "CareGiver",
    "FosterChild",
    "Guardian",
    "Grandparent",
    "Other",
    "Parent",
    "Stepchild",
    "Self",
    "Sibling",
    "Sister",
    "Spouse",
    "Child",
    "LifePartner",
    "Friend",
    "Grandchild",
)


def text(value, length: int) -> str:
    return ("" if value is None else str(value)).strip()[:length]


def number(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def day(value) -> datetime.date | None:
    """A date, or None for Open Dental's 0001-01-01 (and zero dates, which
    the driver hands over as text)."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if not isinstance(value, datetime.date) or value.year < EARLIEST:
        return None
    return value


def local(value) -> datetime.datetime | None:
    """A wall-clock `datetime` column of the practice, as an aware time."""
    if not isinstance(value, datetime.datetime) or value.year < EARLIEST:
        return None
    # In UTC: Python never finds a time in a DST gap or fold equal to another
    # zone's, so a re-read 02:30 on the spring-forward night would look changed.
    return value.replace(tzinfo=ZoneInfo(settings.TIME_ZONE)).astimezone(datetime.UTC)


def utc(value) -> datetime.datetime | None:
    if not isinstance(value, datetime.datetime):
        return None
    return value.replace(tzinfo=datetime.UTC)


def patient_fields(row: dict, providers: dict[int, int], clinics: dict[int, int]) -> dict:
    """Patient model values for a `patient` row (FKs as ids)."""
    guarantor = number(row["Guarantor"])
    responsible = number(row["ResponsParty"])
    return {
        "first_name": text(row["FName"], 100),
        "middle_name": text(row["MiddleI"], 100),
        "last_name": text(row["LName"], 100),
        "preferred_name": text(row["Preferred"], 100),
        "address1": text(row["Address"], 100),
        "address2": text(row["Address2"], 100),
        "city": text(row["City"], 100),
        "state": text(row["State"], 100),
        "zip": text(row["Zip"], 100),
        "birth_date": day(row["Birthdate"]),
        "home_phone": text(row["HmPhone"], 30),
        "work_phone": text(row["WkPhone"], 30),
        "wireless_phone": text(row["WirelessPhone"], 30),
        "email": text(row["Email"], 254),
        "status": PATIENT_STATUS.get(number(row["PatStatus"]), Patient.Status.PATIENT),
        "gender": GENDER.get(number(row["Gender"]), Patient.Gender.UNKNOWN),
        "language": language_code(row["Language"]),
        "primary_provider_id": providers.get(number(row["PriProv"])),
        "clinic_id": clinics.get(number(row["ClinicNum"])),
        # A guarantor of themself has no guarantor link here; 0 is none.
        "od_guarantor": guarantor if guarantor and guarantor != row["PatNum"] else None,
        "od_responsible": responsible if responsible and responsible != row["PatNum"] else None,
    }


def appointment_fields(row: dict, providers: dict[int, int], clinics: dict[int, int]) -> dict | None:
    """Appointment values, or None when the row is not a visit (status or no date)."""
    status = APPOINTMENT_STATUS.get(number(row["AptStatus"]))
    start = local(row["AptDateTime"])
    if status is None or start is None:
        return None
    pattern = text(row["Pattern"], 255)
    dentist, hygienist = number(row["ProvNum"]), number(row["ProvHyg"])
    provider = hygienist if number(row["IsHygiene"]) and hygienist else dentist
    return {
        "start": start,
        "status": status,
        "duration_minutes": max(1, len(pattern)) * MINUTES_PER_PATTERN_CHARACTER,
        "provider_id": providers.get(provider),
        "clinic_id": clinics.get(number(row["ClinicNum"])),
    }


def provider_name(row: dict) -> str:
    name = " ".join(p for p in (text(row["FName"], 100), text(row["LName"], 100)) if p)
    suffix = text(row["Suffix"], 100)
    name = f"{name}, {suffix}" if name and suffix else name
    return (name or text(row["Abbr"], 100) or f"Provider {row['ProvNum']}")[:100]


def relationship(value) -> str:
    index = number(value)
    return RELATIONSHIP[index] if 0 <= index < len(RELATIONSHIP) else "Other"
