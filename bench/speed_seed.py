"""Set-up and in-process measures for the speed suite (issue 9), run inside
one run environment: `python -m bench.speed_seed COMMAND ...`, one JSON line.

accounts N       N patients with portal accounts and a known password (sign-ins)
family ID        make patient ID the guarantor of a family of three; the plan
                 of the family lookup the portal runs on every request
bulk-day N       N complete patients seen on one day (a bulk grant's selection)
argon2 P SECONDS raw Argon2id verifications per second from P threads
granted          how many patients bulk grants have given access so far"""

import datetime
import json
import sys
import threading
import time

import django

PASSWORD = "Bench7Signin"  # noqa: S105 (a throwaway account in a throwaway database)
# A year ahead: bench.scale fills the two years before today with visits,
# which on that day would add patients to the grant (at most 2,000 per run).
BULK_DAY = datetime.date.today() + datetime.timedelta(days=365)


def accounts(count: int) -> dict:
    from molar.access.services import access_provide
    from molar.audit.services import Actor
    from molar.patients.models import Patient
    from molar.portal.services import portal_password_change

    names = []
    for patient in Patient.objects.filter(portal_account__isnull=True).order_by("pk")[:count]:
        creds = access_provide(patient=patient, actor=Actor.system("bench"))
        portal_password_change(account=patient.portal_account, new=PASSWORD, confirm=PASSWORD)
        names.append(creds.username)
    return {"usernames": names, "password": PASSWORD}


def family(patient_id: int) -> dict:
    from django.db import connection

    from molar.access.family import family_members
    from molar.patients.models import GuardianLink, Patient

    head = Patient.objects.get(pk=patient_id)
    members = list(Patient.objects.exclude(pk=patient_id).order_by("-pk")[:3])
    Patient.objects.filter(pk=members[0].pk).update(guarantor=head)
    Patient.objects.filter(pk=members[1].pk).update(responsible_party=head)
    GuardianLink.objects.create(patient=members[2], guardian=head, relationship="Mother", is_guardian=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    query = _family_query(head.pk)
    explain = "EXPLAIN ANALYZE" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
    with connection.cursor() as cursor:
        cursor.execute(f"{explain} {query}")  # noqa: S608 (our own query)
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
    return {"members": len(family_members(head.pk, guarantor_access=True)), "plan": plan}


def _family_query(patient_id: int) -> str:
    """The family part of the portal's account query (SPEC L8), for EXPLAIN."""
    from molar.access.family import PATIENTS, family_sql

    family = family_sql("p.id", guarantor_access=True)
    return f"SELECT {family} FROM {PATIENTS} p WHERE p.id = {int(patient_id)}"  # noqa: S608


def bulk_day(count: int) -> dict:
    from bench.seed import patient_fields
    from molar.patients.models import Appointment, Patient

    start = datetime.datetime.combine(BULK_DAY, datetime.time(15), datetime.UTC)
    patients = Patient.objects.bulk_create(
        Patient(**{**patient_fields(900_000 + n), "external_id": f"bulk-{n}"}) for n in range(count)
    )
    Appointment.objects.bulk_create(Appointment(patient=p, start=start, status="complete") for p in patients)
    return {"day": BULK_DAY.isoformat(), "patients": len(patients)}


def argon2(threads: int, seconds: float) -> dict:
    """What the hardware allows: Argon2id verifications per second from
    `threads` threads (argon2-cffi releases the GIL while hashing)."""
    from django.contrib.auth.hashers import make_password

    from molar.access.hashers import MolarArgon2Hasher

    hasher = MolarArgon2Hasher()
    encoded = make_password(PASSWORD, hasher=hasher)
    counts = [0] * threads
    start = threading.Barrier(threads + 1)
    deadline = [0.0]

    def work(n: int) -> None:
        start.wait()
        while time.perf_counter() < deadline[0]:
            hasher.verify(PASSWORD, encoded)
            counts[n] += 1

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in pool:
        thread.join()
    return {"per_second": sum(counts) / (time.perf_counter() - began), "threads": threads}


def granted() -> dict:
    from molar.invites.models import PendingLetter

    return {"granted": PendingLetter.objects.count()}


def main() -> None:
    django.setup()
    command, args = sys.argv[1], sys.argv[2:]
    if command == "accounts":
        print(json.dumps(accounts(int(args[0]))))
    elif command == "family":
        print(json.dumps(family(int(args[0]))))
    elif command == "bulk-day":
        print(json.dumps(bulk_day(int(args[0]))))
    elif command == "granted":
        print(json.dumps(granted()))
    elif command == "argon2":
        print(json.dumps(argon2(int(args[0]), float(args[1]))))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
