"""Invite measures (issue 4 item 9), run inside one run environment after
`molar migrate`, like bench.seed: `python -m bench.invites scan APPOINTMENTS`
or `python -m bench.invites send INVITES`. Prints one JSON line.

scan: APPOINTMENTS appointments (10,000 patients) spread evenly over two years
back and two years ahead, bulk-inserted in plain SQL (COPY on PostgreSQL), the
SPEC default rules (7 days before, 1 hour after) enabled. A first scan records
every invite already due; each timed scan then finds the few appointments
booked since, which is what the worker's scan does every minute.

send: INVITES complete patients with an appointment in two days, each with no
portal access yet (so each invite issues a one-time password with the
production Argon2id hasher), and one `molar invites run` sending to an aiosmtpd
server on a free port of 127.0.0.1 in this process. The worker's peak RSS is
its ru_maxrss as its parent sees it."""

import datetime
import json
import logging
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time

import django

from bench.seed import PRACTICE_SETTINGS, patient_fields

SCAN_PATIENTS = 10_000
SCAN_RUNS = 5
NEW_PER_RUN = 5  # appointments booked between two scans
SPAN = datetime.timedelta(days=730)
SEND_TIMEOUT_SECONDS = float(os.environ.get("BENCH_INVITES_TIMEOUT", 3600))
COPY_COLUMNS = ("patient_id", "start", "duration_minutes", "status", "created_at", "updated_at")


def practice_ready() -> None:
    """Every setting an invite needs (SPEC I1), and the two default rules."""
    from molar.audit.services import Actor
    from molar.invites.services import invite_rule_create
    from molar.practice.services import practice_settings_update

    actor = Actor.system("bench")
    practice_settings_update(actor=actor, **PRACTICE_SETTINGS)
    for timing in ("before", "after"):
        invite_rule_create(actor=actor, timing=timing, enabled=True)


def make_patients(count: int) -> list[int]:
    from molar.patients.models import Patient

    made = Patient.objects.bulk_create(
        (Patient(**patient_fields(n)) for n in range(1, count + 1)), batch_size=2000
    )
    if made and made[0].pk is None:  # SQLite before RETURNING support
        return list(Patient.objects.order_by("id").values_list("id", flat=True))
    return [patient.pk for patient in made]


def appointment_rows(count: int, patient_ids: list[int], now: datetime.datetime):
    """(patient, start, minutes, status, created, updated), evenly over now ± SPAN."""
    rng = random.Random(4242)
    span = int(SPAN.total_seconds())
    for _ in range(count):
        start = now + datetime.timedelta(seconds=rng.randrange(-span, span))
        if start > now:
            status = "broken" if rng.random() < 0.05 else "scheduled"
        else:
            status = "broken" if rng.random() < 0.1 else "complete"
        yield rng.choice(patient_ids), start, 60, status, now, now


def insert_appointments(rows, *, analyze: bool = False) -> None:
    """Plain SQL: COPY on PostgreSQL, one executemany in one transaction on SQLite."""
    from django.db import connection, transaction

    from molar.patients.models import Appointment

    table = connection.ops.quote_name(Appointment._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in COPY_COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            if analyze:  # what autovacuum does soon after a bulk load
                cursor.execute(f"ANALYZE {table}")
            return
        adapt = connection.ops.adapt_datetimefield_value
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)",  # noqa: S608 - our names
            ((p, adapt(s), m, st, adapt(c), adapt(u)) for p, s, m, st, c, u in rows),
        )


def scan_plan(now: datetime.datetime) -> str:
    """The database's plan for the "before" rule's query: it should read the
    index on start, not the table."""
    from molar.invites.delivery import _due_appointments
    from molar.invites.models import InviteRule

    rule = InviteRule.objects.get(timing="before")
    return _due_appointments(rule, now).explain()


def timed_scans(patient_ids: list[int], now: datetime.datetime, *, offset: int) -> list[float]:
    """SCAN_RUNS scans, each after NEW_PER_RUN appointments were booked; ms each."""
    from django.utils import timezone

    from molar.invites.delivery import invites_scan

    timings = []
    for run in range(offset, offset + SCAN_RUNS):
        booked = timezone.now() + datetime.timedelta(days=1, minutes=run)
        insert_appointments((pid, booked, 60, "scheduled", now, now) for pid in patient_ids[:NEW_PER_RUN])
        started = time.perf_counter()
        created = invites_scan()
        timings.append((time.perf_counter() - started) * 1000)
        if created != NEW_PER_RUN:
            raise SystemExit(f"bench.invites: a scan found {created} new invites, not {NEW_PER_RUN}")
    return timings


def scan(appointments: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from molar.invites.delivery import invites_scan
    from molar.invites.models import Invite

    practice_ready()
    patient_ids = make_patients(SCAN_PATIENTS)
    now = timezone.now()
    started = time.perf_counter()
    insert_appointments(appointment_rows(appointments, patient_ids, now), analyze=True)
    insert_seconds = time.perf_counter() - started

    started = time.perf_counter()
    first = invites_scan()
    first_ms = (time.perf_counter() - started) * 1000
    stale = []
    if connection.vendor == "postgresql":
        # Until autovacuum analyzes the invite table, the planner believes
        # the first scan's rows are not there; time that too, then analyze.
        stale = timed_scans(patient_ids, now, offset=0)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Invite._meta.db_table)}")
    timings = timed_scans(patient_ids, now, offset=len(stale))
    return {
        "appointments": appointments,
        "insert_seconds": insert_seconds,
        "first_created": first,
        "first_ms": first_ms,
        "median_ms": statistics.median(timings),
        "stale_median_ms": statistics.median(stale) if stale else None,
        "runs": SCAN_RUNS,
        "plan": scan_plan(timezone.now()),
    }


class Inbox:
    """aiosmtpd handler: counts messages, their recipients and arrival times.
    No properties: aiosmtpd inspects the handler's members at each connection."""

    def __init__(self):
        self.lock = threading.Lock()
        self.recipients: set[str] = set()
        self.count = 0
        self.first = self.last = 0.0

    async def handle_DATA(self, server, session, envelope):  # the name aiosmtpd calls
        now = time.perf_counter()
        with self.lock:
            self.count += 1
            self.recipients.update(r.lower() for r in envelope.rcpt_tos)
            self.first = self.first or now
            self.last = now
        return "250 Message accepted for delivery"


def due_invites(count: int) -> None:
    from django.utils import timezone

    from molar.patients.models import Appointment

    start = timezone.now() + datetime.timedelta(days=2)
    Appointment.objects.bulk_create(
        (Appointment(patient_id=pk, start=start) for pk in make_patients(count)), batch_size=2000
    )


def send(count: int) -> dict:
    from aiosmtpd.controller import Controller

    from bench.server import free_port

    practice_ready()
    due_invites(count)
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    env = {**os.environ, "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(controller.port)}
    molar = os.path.join(os.path.dirname(sys.executable), "molar")
    try:
        started = time.perf_counter()
        done = subprocess.run(
            [molar, "invites", "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=SEND_TIMEOUT_SECONDS,
            check=False,
        )
        seconds = time.perf_counter() - started
    finally:
        controller.stop()
    if done.returncode != 0:
        raise SystemExit(f"molar invites run failed ({done.returncode}): {done.stderr[-1500:]}")
    if inbox.count != count or len(inbox.recipients) != count:
        raise SystemExit(
            f"bench.invites: {inbox.count} messages to {len(inbox.recipients)} addresses, "
            f"expected {count}: {done.stdout.strip()}"
        )
    steady = inbox.last - inbox.first
    return {
        "invites": count,
        "seconds": seconds,
        "per_second": (count - 1) / steady if steady > 0 else 0.0,
        "per_second_overall": count / seconds,
        # Linux reports ru_maxrss in KiB; the only child waited for is the worker.
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "output": done.stdout.strip(),
    }


def main() -> None:
    django.setup()
    measure, count = sys.argv[1], int(sys.argv[2])
    result = {"scan": scan, "send": send}[measure](count)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
