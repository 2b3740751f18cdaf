"""Set-up of one run, in its own process so each database gets its own Django
settings: run `python -m bench.seed PATIENTS` with MOLAR_HOME (and DATABASE_URL)
set, after `molar migrate`. Prints one JSON line: the staff user's username and
password, an API key, and the ids of the patients made."""

import datetime
import json
import sys

import django

PRACTICE_URL = "https://portal.example.test/"
STAFF_USERNAME = "bench-frontdesk"
# Every setting access and invites need (SPEC S1, S2, I1).
PRACTICE_SETTINGS = {
    "practice_name": "Bench Dental",
    "practice_phone": "207-555-0100",
    "practice_email": "frontdesk@example.test",
    "address1": "1 Commercial St",
    "city": "Portland",
    "state": "ME",
    "zip": "04101",
    "country": "US",
    "portal_enabled": True,
    "patient_facing_url": PRACTICE_URL,
    # SPEC K2: the benchmark signs staff in with a password, as the demo does.
    "require_staff_two_factor": False,
    "require_admin_two_factor": False,
}
FIRST_NAMES = (
    "Maria",
    "Daniel",
    "Sofia",
    "James",
    "Grace",
    "Peter",
    "Amina",
    "Chen",
    "Olga",
    "Rahul",
    "Lucia",
    "Kwame",
    "Noor",
    "Ivan",
    "Emma",
    "Mateo",
    "Hana",
    "Liam",
)
LAST_NAMES = ("Lopez", "Chen", "O'Neil", "Novak", "Kim", "Okafor", "Rossi", "Haddad", "Berg")
CITIES = (
    ("Portland", "ME", "04101"),
    ("Bangor", "ME", "04401"),
    ("Boston", "MA", "02108"),
    ("Burlington", "VT", "05401"),
)


def patient_fields(number: int) -> dict:
    """Every P1 field filled (so every P3 check passes), varied by `number`."""
    city, state, zip_code = CITIES[number % len(CITIES)]
    return {
        "first_name": FIRST_NAMES[number % len(FIRST_NAMES)],
        "middle_name": "Ann" if number % 2 else "Lee",
        "last_name": f"{LAST_NAMES[number % len(LAST_NAMES)]}-{number}",
        "preferred_name": FIRST_NAMES[(number + 3) % len(FIRST_NAMES)],
        "address1": f"{10 + number} Harbor Lane",
        "address2": f"Apt {number % 40 + 1}",
        "city": city,
        "state": state,
        "zip": zip_code,
        "birth_date": datetime.date(1940, 1, 1) + datetime.timedelta(days=number * 97 % 25_000),
        "home_phone": f"207-555-{number % 10_000:04d}",
        "wireless_phone": f"207-556-{number % 10_000:04d}",
        "work_phone": f"207-557-{number % 10_000:04d}",
        "email": f"patient{number}@example.test",
        "status": "patient",
        "external_id": f"bench-{number}",
    }


def seed(patient_count: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.db.models import F

    from molar.api.keys import apikey_create
    from molar.audit.services import Actor
    from molar.patients.eligibility import eligibility_problems
    from molar.patients.models import Patient, Provider
    from molar.patients.services import patient_create
    from molar.practice.models import DEFAULT_DISPLAY_FIELDS
    from molar.practice.services import practice_settings_update
    from molar.staffauth.accounts import staff_add

    actor = Actor.system("bench")
    with transaction.atomic():
        practice = practice_settings_update(
            actor=actor,
            **PRACTICE_SETTINGS,
            display_fields=[*DEFAULT_DISPLAY_FIELDS, "patient_portal"],
        )
        password = staff_add(username=STAFF_USERNAME, admin=False, actor=actor)
        staff = get_user_model().objects.get(username=STAFF_USERNAME)
        api_key = apikey_create(user=staff, name="bench", actor=actor)
        provider = Provider.objects.create(name="Dr. Ada Reyes", abbreviation="DOC1")
        patients = [
            patient_create(actor=actor, primary_provider=provider, **patient_fields(n))
            for n in range(1, patient_count + 1)
        ]
        ids = [patient.pk for patient in patients]
        Patient.objects.filter(pk__in=ids).update(guarantor=F("pk"))  # P1: guarantor is self
    incomplete = [p.pk for p in patients if eligibility_problems(p, country=practice.country)]
    if incomplete:
        raise SystemExit(f"bench.seed: patients {incomplete[:5]} are not eligible for access")
    return {
        "staff_username": STAFF_USERNAME,
        "staff_password": password,
        "api_key": api_key,
        "patient_ids": ids,
    }


def main() -> None:
    django.setup()
    print(json.dumps(seed(int(sys.argv[1]))))


if __name__ == "__main__":
    main()
