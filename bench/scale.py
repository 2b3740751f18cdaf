"""Scale measures (issue 5 item 6), run inside one run environment after
`molar migrate`, like bench.seed: `python -m bench.scale fill|answer|import N`.
Each prints one JSON line.

fill: 100,000 patients in households as a practice has them (about 60% of
patients have a guarantor other than themselves, half of those the same
responsible party, and a third a guardian link), 1,000,000 appointments over
the last two years (about 60% of them completed visits, five providers), an
`OnlineAccessProvided` event for half the patients, and 1,000,000 audit
events, chained.

answer: through the whole Django stack (the test client, a signed-in staff
user): the ElectronicCopyAccess dashboard page and API for one year, and the
first page of the audit report; median of several runs after a first one.

import N: writes an N-row patient CSV and runs `molar import patients` on it
in a child process; prints its time and the child's peak RSS (ru_maxrss)."""

import csv
import datetime
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import django

PATIENTS = 100_000
APPOINTMENTS = 1_000_000
AUDIT_EVENTS = 1_000_000
PROVIDERS = 5
RUNS = 5


def _copy(model, columns: tuple[str, ...], rows) -> None:
    from django.db import connection, transaction

    # Columns added since (NOT NULL, with a Django-side default) get that default.
    extra = [
        f for f in model._meta.concrete_fields if not f.primary_key and not f.null and f.column not in columns
    ]
    defaults = tuple(f.get_default() for f in extra)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in (*columns, *(f.column for f in extra)))
    with transaction.atomic(), connection.cursor() as cursor:
        # A bulk load, not a request: the server's statement timeout (30 s)
        # is for requests, and a million rows through the change triggers
        # can take longer on a busy machine.
        cursor.execute("SET LOCAL statement_timeout = 0")
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, *defaults))
        cursor.execute(f"ANALYZE {table}")


HOUSEHOLD_SIZES = (1, 1, 1, 1, 2, 2, 3, 3, 4, 5)  # one drawn per household


def _households(ids: list[int], rng: random.Random) -> list[tuple]:
    """Group the patients into households: the first of each is the
    guarantor of the others (and for half of them the responsible party
    too), and a third of the others have the first as guardian. Sets the
    columns in one UPDATE; returns the guardian links to write."""
    from django.db import connection, transaction

    from molar.patients.models import Patient

    members, links, at = [], [], 0
    while at < len(ids):
        head, others = ids[at], ids[at + 1 : at + rng.choice(HOUSEHOLD_SIZES)]
        at += 1 + len(others)
        for member in others:
            members.append((member, head, head if rng.random() < 0.5 else None))
            if rng.random() < 1 / 3:
                links.append((member, head, rng.choice(("Mother", "Father")), True))
    table = connection.ops.quote_name(Patient._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute("CREATE TEMP TABLE scale_household (id bigint, guarantor bigint, responsible bigint)")
        with cursor.cursor.copy("COPY scale_household FROM STDIN") as copy:
            for row in members:
                copy.write_row(row)
        cursor.execute(
            f"UPDATE {table} p SET guarantor_id = h.guarantor, responsible_party_id = h.responsible"  # noqa: S608
            " FROM scale_household h WHERE p.id = h.id"
        )
        cursor.execute("DROP TABLE scale_household")
        cursor.execute(f"ANALYZE {table}")
    return links


def fill() -> dict:
    from django.db import connection
    from django.utils import timezone

    from molar.access.models import AccessEvent
    from molar.audit.services import audit_record_many
    from molar.patients.models import Appointment, GuardianLink, Patient, Provider

    if connection.vendor != "postgresql":
        raise SystemExit("bench.scale needs PostgreSQL (BENCH_DATABASE_URL)")
    from bench.invites import practice_ready
    from bench.seed import patient_fields

    practice_ready()
    started, now, rng = time.perf_counter(), timezone.now(), random.Random(5151)
    providers = [
        Provider.objects.create(name=f"Dr. Scale {n}", abbreviation=f"SC{n}").pk for n in range(PROVIDERS)
    ]
    fields = tuple(name for name in patient_fields(0) if name != "external_id")
    _copy(
        Patient,
        (*fields, "external_id", "created_at", "updated_at"),
        ((*(patient_fields(n)[f] for f in fields), f"scale-{n}", now, now) for n in range(PATIENTS)),
    )
    ids = list(Patient.objects.order_by("pk").values_list("pk", flat=True))
    links = _households(ids, rng)
    _copy(GuardianLink, ("patient_id", "guardian_id", "relationship", "is_guardian"), links)
    span = int(datetime.timedelta(days=730).total_seconds())

    def visits():
        for _ in range(APPOINTMENTS):
            start = now - datetime.timedelta(seconds=rng.randrange(span))
            status = "complete" if rng.random() < 0.6 else rng.choice(("scheduled", "broken"))
            yield rng.choice(ids), rng.choice(providers), start, 60, status, now, now

    _copy(
        Appointment,
        ("patient_id", "provider_id", "start", "duration_minutes", "status", "created_at", "updated_at"),
        visits(),
    )
    _copy(
        AccessEvent,
        ("patient_id", "kind", "source", "created_at"),
        (
            (pk, "OnlineAccessProvided", "window", now - datetime.timedelta(seconds=rng.randrange(span)))
            for pk in ids[::2]
        ),
    )
    written = audit_record_many(
        {
            "action": rng.choice(("sign_in", "phi_view", "access_provided", "printed")),
            "actor_type": "patient",
            "actor_label": "scale",
            "patient_id": rng.choice(ids),
            "created_at": now - datetime.timedelta(seconds=(AUDIT_EVENTS - n) * 60),
        }
        for n in range(AUDIT_EVENTS)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "patients": len(ids),
        "appointments": APPOINTMENTS,
        "audit_events": written,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _timed(client, url: str, **headers) -> float:
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"bench.scale: {url} answered {response.status_code}")
    if getattr(response, "streaming", False):
        response.close()
    return elapsed


def answer() -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from molar.api.keys import apikey_create
    from molar.audit.services import Actor
    from molar.staffauth.accounts import staff_add

    staff_add(username="scale-admin", admin=True, actor=Actor.system("bench"))
    user = get_user_model().objects.get(username="scale-admin")
    key = apikey_create(user=user, name="scale", actor=Actor.system("bench"))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    end = timezone.localdate()
    period = f"start={end - datetime.timedelta(days=365)}&end={end}"
    urls = {
        "dashboard": f"/staff/dashboard/?{period}",
        "measure_api": f"/api/v1/measures/electronic-copy-access?{period}&patients=false",
        "audit_first_page": "/staff/audit/",
    }
    result = {}
    for name, url in urls.items():
        headers = {"Authorization": f"Bearer {key}"} if name == "measure_api" else {}
        _timed(client, url, **headers)  # first run: caches, plans
        result[name] = statistics.median(_timed(client, url, **headers) for _ in range(RUNS))
    from molar.ehr.measures import electronic_copy_access

    measure = electronic_copy_access(start=end - datetime.timedelta(days=365), end=end)
    result["denominator"] = measure.denominator
    return result


def import_rows(count: int) -> dict:
    from bench.seed import patient_fields

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "patients.csv"
        columns = (
            "external_id",
            "first_name",
            "last_name",
            "address1",
            "city",
            "state",
            "zip",
            "birth_date",
            "home_phone",
            "email",
        )
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for n in range(count):
                fields = patient_fields(n)
                writer.writerow([f"import-{count}-{n}", *(fields[c] for c in columns[1:])])
        molar = str(Path(sys.executable).with_name("molar"))
        started = time.perf_counter()
        done = subprocess.run(
            [molar, "import", "patients", str(path)], capture_output=True, text=True, check=False
        )
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bench.scale: import failed: {done.stderr.strip()[-500:]}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "rows": count,
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "summary": done.stdout.strip().splitlines()[-1],
    }


def main() -> None:
    django.setup()
    command = sys.argv[1]
    if command == "fill":
        print(json.dumps(fill()))
    elif command == "answer":
        print(json.dumps(answer()))
    else:
        print(json.dumps(import_rows(int(sys.argv[2]))))


if __name__ == "__main__":
    main()
