"""Open Dental sync measures (issue 12 item 8, SPEC O5), run inside one run
environment after `molar migrate`: `python -m bench.opendental PATIENTS APPOINTMENTS`.
Prints one JSON line.

Builds an Open Dental database in the MariaDB server on 127.0.0.1:3306 (a
unique `od_bench_<random>` name, dropped at the end) with the tables of
molar.opendental.testdb: PATIENTS patients in families of three (every tenth
family with a guardian row), APPOINTMENTS appointments over four years with a
`histappointment` Created row each, 10 providers, 3 clinics, a portal account
(SHA3-512) and an OnlineAccessProvided event for 30% of the patients. Rows
carry change stamps from the past two years, as in a practice's database.

Then, each as `molar opendental sync` in a child process (its own peak RSS
from wait4): the first sync, a pass with no changes, and a pass after 1,000
patients changed in Open Dental."""

import base64
import datetime
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVER = os.environ.get("OPENDENTAL_BENCH_SERVER", "mysql://root@127.0.0.1:3306/")
CHUNK = 10_000
CHANGED = 1_000


def _insert(conn, table: str, columns: tuple[str, ...], rows) -> int:
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
    count, batch = 0, []
    with conn.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) == CHUNK:
                cursor.executemany(sql, batch)
                count, batch = count + len(batch), []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _stamp(rng: random.Random, now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(seconds=rng.randrange(2 * 365 * 86400))


def fill(url: str, patients: int, appointments: int) -> float:
    from molar.opendental import testdb

    started, rng = time.perf_counter(), random.Random(1212)
    now = datetime.datetime(2026, 11, 1, 12, 0)
    conn = testdb.connect(url)
    with conn.cursor() as cursor:
        for name, value in (
            ("PracticeTitle", "Bench Dental"),
            ("PracticePhone", "2075550100"),
            ("PracticeAddress", "1 Bench St"),
            ("PracticeCity", "Portland"),
            ("PracticeST", "ME"),
            ("PracticeZip", "04101"),
            ("EasyNoClinics", "0"),
            ("PatientPortalURL", "https://portal.bench.example/"),
        ):
            cursor.execute("UPDATE preference SET ValueString = %s WHERE PrefName = %s", (value, name))
    _insert(
        conn,
        "provider",
        ("ProvNum", "Abbr", "FName", "LName", "Suffix", "DateTStamp"),
        ((n, f"DR{n}", f"Doc{n}", "Bench", "DDS", _stamp(rng, now)) for n in range(1, 11)),
    )
    _insert(
        conn,
        "clinic",
        ("ClinicNum", "Description", "Abbr", "City", "State"),
        ((n, f"Bench clinic {n}", f"C{n}", "Portland", "ME") for n in range(1, 4)),
    )
    languages = ("eng",) * 8 + ("spa", "")

    def people():
        for n in range(1, patients + 1):
            head = n - (n - 1) % 3
            yield (
                n,
                f"Last{head}",
                f"First{n}",
                f"{1940 + n % 80}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                f"{n} Harbor Lane",
                "Portland",
                "ME",
                "04101",
                f"207555{n % 10000:04d}",
                f"p{n}@bench.example",
                n % 2,
                (0, 0, 0, 0, 0, 0, 0, 1, 2, 0)[n % 10],
                head,
                1 + n % 10,
                1 + n % 3,
                languages[n % 10],
                _stamp(rng, now),
            )

    _insert(
        conn,
        "patient",
        (
            "PatNum",
            "LName",
            "FName",
            "Birthdate",
            "Address",
            "City",
            "State",
            "Zip",
            "WirelessPhone",
            "Email",
            "Gender",
            "PatStatus",
            "Guarantor",
            "PriProv",
            "ClinicNum",
            "Language",
            "DateTStamp",
        ),
        people(),
    )
    _insert(
        conn,
        "guardian",
        ("PatNumChild", "PatNumGuardian", "Relationship", "IsGuardian"),
        ((head + 1, head, 1, 1) for head in range(1, patients - 1, 30)),
    )
    statuses = (2,) * 12 + (1,) * 4 + (5, 3, 6, 2)

    def visits():
        span = 4 * 365 * 86400
        start = datetime.datetime(2024, 1, 1)
        for n in range(1, appointments + 1):
            when = start + datetime.timedelta(seconds=rng.randrange(span) // 600 * 600)
            yield (
                n,
                rng.randrange(1, patients + 1),
                rng.choice(statuses),
                "X" * rng.randrange(2, 13),
                1 + n % 10,
                when,
                1 + n % 3,
                _stamp(rng, now),
            )

    columns = (
        "AptNum",
        "PatNum",
        "AptStatus",
        "Pattern",
        "ProvNum",
        "AptDateTime",
        "ClinicNum",
        "DateTStamp",
    )
    _insert(conn, "appointment", columns, visits())
    with conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO histappointment (HistDateTStamp, HistApptAction, AptNum, PatNum, "
            "AptStatus, AptDateTime) SELECT SecDateTEntry, 0, AptNum, PatNum, AptStatus, "
            "AptDateTime FROM appointment"
        )
    online = range(1, patients + 1, 3)

    def accounts():
        for n in online:
            salt = base64.b64encode(rng.randbytes(64)).decode()
            digest = hashlib.sha3_512((salt + f"Bench#{n}").encode("utf-16-le")).digest()
            yield n, 1, f"First{n}x{n % 997}", f"SHA3_512${salt}${base64.b64encode(digest).decode()}"

    _insert(conn, "userweb", ("FKey", "FKeyType", "UserName", "Password"), accounts())
    _insert(
        conn,
        "ehrmeasureevent",
        ("PatNum", "EventType", "DateTEvent"),
        ((n, 1, _stamp(rng, now)) for n in online),
    )
    with conn.cursor() as cursor:
        for table in ("patient", "appointment", "histappointment", "userweb"):
            cursor.execute(f"ANALYZE TABLE {table}")
    conn.close()
    return time.perf_counter() - started


def sync_child(url: str) -> dict:
    """`molar opendental sync` in a child process: wall time and its own peak RSS."""
    molar = str(Path(sys.executable).with_name("molar"))
    env = {**os.environ, "OPENDENTAL_DATABASE_URL": url}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen([molar, "opendental", "sync"], env=env, stdout=out, stderr=err)  # noqa: S603
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        output, errors = out.read(), err.read()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"molar opendental sync failed: {errors.strip()[-500:]}")
    from molar.opendental.models import SyncPass

    record = SyncPass.objects.order_by("-started_at", "-id").first()
    return {
        "wall": wall,
        "pass_seconds": record.seconds,
        "summary": output.strip().splitlines()[0],
        "added": record.added,
        "changed": record.changed,
        "accounts": record.accounts,
        "peak_rss_mib": usage.ru_maxrss / 1024,
    }


def main() -> None:
    import django

    django.setup()
    from molar.opendental import testdb

    patients, appointments = int(sys.argv[1]), int(sys.argv[2])
    url = testdb.create(SERVER, prefix="od_bench")
    try:
        seconds = fill(url, patients, appointments)
        result = {"patients": patients, "appointments": appointments, "fill_seconds": seconds}
        result["first"] = sync_child(url)
        result["nochange"] = sync_child(url)
        writer = testdb.Writer(url)
        chosen = random.Random(7).sample(range(1, patients + 1), CHANGED)
        writer.execute(
            "UPDATE patient SET Address2 = CONCAT('Unit ', PatNum) WHERE PatNum IN ("  # noqa: S608
            + ",".join(map(str, chosen))
            + ")"
        )
        writer.close()
        result["changed"] = sync_child(url)
    finally:
        testdb.drop(url)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
