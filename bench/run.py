"""`python -m bench`: set up, serve, measure, stop, print one table."""

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import BenchError
from bench.client import portal_session, staff_session
from bench.environment import RunEnvironment, Target, molar_env, run_environment
from bench.measures import (
    Latency,
    Throughput,
    argon2_cost,
    percentile,
    provide_latency,
    throughput,
)
from bench.report import Row, error_lines, error_note, table
from bench.server import molar_server

PROJECT = Path(__file__).resolve().parent.parent
PATIENTS = 300
PROVIDE_REQUESTS = 200
PROVIDE_LIMIT_SECONDS = 60.0
SERVER_WORKERS = 2
CLIENT_THREADS = 8
THROUGHPUT_SECONDS = 5.0
THROUGHPUT_MAX_PER_THREAD = 50_000
HASHER_ROUNDS = 20
FORGOT_TRIES = 50
SETUP_TIMEOUT_SECONDS = 120
# BENCH=web (the default), invites, or all. The invite measures take a quarter
# of an hour per database (every invite hashes a one-time password), so they
# run only when asked for.
SUITES = {
    "web": ("web", "speed"),
    "speed": ("speed",),
    "invites": ("invites",),
    "scale": ("scale",),
    "opendental": ("opendental",),
    "all": ("web", "speed", "invites", "scale", "opendental"),
}
# The portal tabs (issue 6) for a patient with a long history (bench.portal_seed).
PORTAL_TABS = {
    "Home": "/portal/home/",
    "Appointments": "/portal/appointments/",
    "Account": "/portal/account/",
    "Treatment Plan": "/portal/treatment-plan/",
    "Messages": "/portal/messages/",
    "Health Summary": "/portal/health-summary/",
    "Documents": "/portal/documents/",
}
PORTAL_SECONDS = 3.0
INVITE_APPOINTMENTS = int(os.environ.get("BENCH_INVITES_APPOINTMENTS", 1_000_000))
INVITE_RATE_COUNT = int(os.environ.get("BENCH_INVITES_SEND", 2_000))
INVITE_MEMORY_COUNT = int(os.environ.get("BENCH_INVITES_MEMORY", 10_000))
INVITE_TIMEOUT_SECONDS = float(os.environ.get("BENCH_INVITES_TIMEOUT", 3600))
# Issue 12: the Open Dental sync at full size, and at a tenth to show memory is flat.
OD_PATIENTS = int(os.environ.get("BENCH_OD_PATIENTS", 100_000))
OD_APPOINTMENTS = int(os.environ.get("BENCH_OD_APPOINTMENTS", 1_000_000))


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run_python(env: dict[str, str], *args: str, timeout: float = SETUP_TIMEOUT_SECONDS) -> str:
    """Run `python args...` in the run's environment; its stdout, or BenchError."""
    try:
        done = subprocess.run(
            [sys.executable, *args],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(args)} took over {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-10:])
        raise BenchError(f"{' '.join(args)} failed ({done.returncode}):\n{tail}")
    return done.stdout


def migrate(run: RunEnvironment) -> None:
    molar = str(Path(sys.executable).with_name("molar"))
    try:
        subprocess.run(
            [molar, "migrate", "--no-input", "-v", "0"],
            cwd=PROJECT,
            env=run.env,
            capture_output=True,
            text=True,
            timeout=SETUP_TIMEOUT_SECONDS,
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        raise BenchError(f"molar migrate failed:\n{exc.stderr.strip()[-1500:]}") from None
    except (subprocess.TimeoutExpired, OSError) as exc:
        raise BenchError(f"molar migrate did not run: {exc}") from None


def set_up(run: RunEnvironment) -> dict:
    migrate(run)
    return json.loads(run_python(run.env, "-m", "bench.seed", str(PATIENTS)).splitlines()[-1])


@dataclass
class TargetResult:
    label: str
    latency: Latency
    health: Throughput
    health_session: Throughput
    chart: Throughput
    tabs: dict[str, Throughput]
    forgot: list[Row]


def forgot_rows(run: RunEnvironment, label: str) -> list[Row]:
    """SPEC K3: forgot password for a known and an unknown username, real hasher."""
    found = json.loads(run_python(run.env, "-m", "bench.forgot", str(FORGOT_TRIES)).splitlines()[-1])
    note = f"POST /portal/forgot/, {found['tries']} each, alternating, in-process, Argon2id"
    return [
        Row(f"forgot password, known username p50 [{label}]", found["known"], "ms", note),
        Row(f"forgot password, unknown username p50 [{label}]", found["unknown"], "ms", note),
        Row(
            f"forgot password, known - unknown [{label}]",
            found["known"] - found["unknown"],
            "ms",
            "SPEC K3: under 20 ms",
        ),
    ]


def measure_target(target: Target) -> TargetResult:
    with run_environment(target) as run:
        progress(f"{target.label}: migrate and {PATIENTS} complete patients")
        data = set_up(run)
        progress(f"{target.label}: forgot password x{FORGOT_TRIES} known and unknown")
        forgot = forgot_rows(run, target.label)
        ids = data["patient_ids"]
        log_path = run.home / "server.log"
        with molar_server(run.env, workers=SERVER_WORKERS, log_path=log_path) as port:
            progress(f"{target.label}: provide access x{PROVIDE_REQUESTS} through the API")
            latency = provide_latency(
                port, data["api_key"], ids[:PROVIDE_REQUESTS], limit_seconds=PROVIDE_LIMIT_SECONDS
            )
            progress(f"{target.label}: 3 pages x {THROUGHPUT_SECONDS:.0f} s")
            cookies = staff_session(port, data["staff_username"], data["staff_password"])
            load = {
                "threads": CLIENT_THREADS,
                "seconds": THROUGHPUT_SECONDS,
                "max_requests": THROUGHPUT_MAX_PER_THREAD,
            }
            # The baseline is /healthz as a probe calls it: no cookies. The same page
            # with the staff session cookie shows what the session alone costs.
            health = throughput(port, ["/healthz"], **load)
            health_session = throughput(port, ["/healthz"], cookies=cookies, **load)
            chart = throughput(port, [f"/staff/patients/{pk}/" for pk in ids], cookies=cookies, **load)
            progress(f"{target.label}: portal tabs for a patient with a long history")
            patient = json.loads(run_python(run.env, "-m", "bench.portal_seed").splitlines()[-1])
            portal = portal_session(port, patient["username"], patient["password"])
            tabs = {
                name: throughput(port, [path], cookies=portal, **{**load, "seconds": PORTAL_SECONDS})
                for name, path in PORTAL_TABS.items()
            }
            return TargetResult(target.label, latency, health, health_session, chart, tabs, forgot)


def target_rows(result: TargetResult) -> list[Row]:
    db, latency, health, chart = result.label, result.latency, result.health, result.chart
    if not latency.seconds:
        raise BenchError(f"{db}: no provide-access request succeeded")
    ms = [s * 1000 for s in latency.seconds]
    return [
        Row(
            f"provide access p50 [{db}]",
            percentile(ms, 50),
            "ms",
            f"POST /api/v1/patients/{{id}}/portal-access, {len(ms)} sequential, {error_note(latency.errors)}",
        ),
        Row(f"provide access p95 [{db}]", percentile(ms, 95), "ms"),
        Row(f"provide access max [{db}]", max(ms), "ms"),
        Row(
            f"/healthz [{db}]",
            health.per_second,
            "req/s",
            f"{CLIENT_THREADS} keep-alive client threads, {THROUGHPUT_SECONDS:.0f} s, "
            f"{SERVER_WORKERS} granian workers, {health.requests} requests, "
            f"{error_note(health.errors)}",
            0,
        ),
        Row(
            f"/healthz with session [{db}]",
            result.health_session.per_second,
            "req/s",
            f"staff session cookie sent, {result.health_session.requests} requests, "
            f"{error_note(result.health_session.errors)}",
            0,
        ),
        Row(
            f"chart page [{db}]",
            chart.per_second,
            "req/s",
            f"/staff/patients/<id>/ signed in, {chart.requests} requests, {error_note(chart.errors)}",
            0,
        ),
        Row(
            f"chart / healthz [{db}]",
            chart.per_second / health.per_second if health.per_second else 0.0,
            "ratio",
            "chart page req/s over /healthz req/s: the figure that counts",
            2,
        ),
        *tab_rows(result),
        *result.forgot,
    ]


def tab_rows(result: TargetResult) -> list[Row]:
    """Issue 6: each tab for a patient with 200 appointments, 500 ledger entries
    and 100 messages, next to the minimal page of the same server."""
    db, base = result.label, result.health.per_second
    rows = []
    for name, load in result.tabs.items():
        ratio = f"{load.per_second / base:.2f} of /healthz" if base else ""
        rows.append(
            Row(
                f"portal {name} tab [{db}]",
                load.per_second,
                "req/s",
                f"long history, {load.requests} requests, {ratio}, {error_note(load.errors)}",
                0,
            )
        )
    return rows


def scale_rows(target: Target) -> list[Row]:
    """Issue 5: 100,000 patients, 1,000,000 appointments and 1,000,000 audit
    events on PostgreSQL; the measure and the audit report, and CSV import."""
    db = target.label
    with run_environment(target) as run:
        migrate(run)
        progress(f"{db}: fill 100,000 patients, 1,000,000 appointments, 1,000,000 audit events")
        filled = json.loads(
            run_python(run.env, "-m", "bench.scale", "fill", timeout=INVITE_TIMEOUT_SECONDS).splitlines()[-1]
        )
        progress(f"{db}: dashboard, measure API and audit report")
        answer = json.loads(run_python(run.env, "-m", "bench.scale", "answer").splitlines()[-1])
        imports = []
        for rows in (10_000, 100_000):
            progress(f"{db}: import {rows:,} patients from CSV")
            imports.append(
                json.loads(
                    run_python(
                        run.env, "-m", "bench.scale", "import", str(rows), timeout=INVITE_TIMEOUT_SECONDS
                    ).splitlines()[-1]
                )
            )
    seen = f"{answer['denominator']:,} patients seen; data loaded in {filled['seconds']:.0f} s"
    rows = [
        Row(f"dashboard page, one year [{db}]", answer["dashboard"], "ms", f"median of 5; {seen}"),
        Row(f"measure API, one year [{db}]", answer["measure_api"], "ms", "median of 5, patients=false"),
        Row(
            f"audit report first page [{db}]",
            answer["audit_first_page"],
            "ms",
            f"{filled['audit_events']:,} events, median of 5",
        ),
    ]
    for done in imports:
        rows.append(
            Row(
                f"import {done['rows']:,} patients [{db}]",
                done["seconds"],
                "s",
                f"`molar import patients`, peak RSS {done['peak_rss_mib']:.0f} MiB",
            )
        )
    return rows


def speed_rows(target: Target) -> tuple[list[Row], list[str]]:
    """Issue 9: tabs and sign-ins next to their baselines, the family lookup's
    plan, and requests during a bulk grant; on PostgreSQL with 100,000 patients."""
    from bench import speed

    db, notes = target.label, []
    with run_environment(target) as run:
        migrate(run)
        if target.database_url:
            progress(f"{db}: fill 100,000 patients (and a million appointments and audit events)")
            run_python(run.env, "-m", "bench.scale", "fill", timeout=INVITE_TIMEOUT_SECONDS)
        data = set_up(run)
        patient = json.loads(run_python(run.env, "-m", "bench.portal_seed").splitlines()[-1])
        family = json.loads(
            run_python(run.env, "-m", "bench.speed_seed", "family", str(patient["patient_id"])).splitlines()[
                -1
            ]
        )
        notes.append(f"Family lookup of the portal (every request), {db}:\n{family['plan']}")
        accounts = json.loads(
            run_python(
                run.env, "-m", "bench.speed_seed", "accounts", str(speed.SIGN_IN_PARALLELISM)
            ).splitlines()[-1]
        )

        def raw_rate() -> float:
            progress(f"{db}: raw Argon2id x{speed.SIGN_IN_PARALLELISM}")
            out = run_python(run.env, "-m", "bench.speed_seed", "argon2", str(speed.SIGN_IN_PARALLELISM), "5")
            return float(json.loads(out.splitlines()[-1])["per_second"])

        bulk = json.loads(
            run_python(run.env, "-m", "bench.speed_seed", "bulk-day", str(speed.BULK_PATIENTS)).splitlines()[
                -1
            ]
        )
        with molar_server(run.env, workers=SERVER_WORKERS, log_path=run.home / "server.log") as port:
            progress(f"{db}: portal tabs with wrk at {speed.CONNECTIONS} connections")
            cookies = portal_session(port, patient["username"], patient["password"])
            rows = speed.tab_rows(db, port, cookies)
            progress(f"{db}: sign-ins from {speed.SIGN_IN_PARALLELISM} clients")
            rows += speed.sign_in_rows(db, port, accounts, raw_rate)
            progress(f"{db}: a PATCH and a sign-in during a {speed.BULK_PATIENTS:,}-patient bulk grant")
            molar = str(Path(sys.executable).with_name("molar"))
            grant_log = open(run.home / "grant.log", "w")  # noqa: SIM115 (closed below)
            grant = subprocess.Popen(  # noqa: S603 (our own command)
                [
                    molar,
                    "bulk",
                    "grant",
                    "--from",
                    bulk["day"],
                    "--to",
                    bulk["day"],
                    "-o",
                    str(run.home / "letters.pdf"),
                ],
                cwd=PROJECT,
                env=run.env,
                stdout=subprocess.DEVNULL,
                stderr=grant_log,
            )
            try:
                time.sleep(2)  # under way
                if grant.poll() is not None:
                    said = (run.home / "grant.log").read_text().strip()
                    raise BenchError(f"{db}: the bulk grant ended at once: {said[-500:]}")
                samples = speed.during_bulk_grant(
                    port,
                    data["api_key"],
                    data["patient_ids"][-1],
                    (accounts["usernames"][0], accounts["password"]),
                    grant,
                )
            finally:
                grant.terminate()
                grant.wait(timeout=60)
                grant_log.close()
            granted = json.loads(run_python(run.env, "-m", "bench.speed_seed", "granted").splitlines()[-1])
            rows += speed.bulk_rows(db, samples, granted["granted"])
    return rows, notes


def opendental_job(target: Target, patients: int, appointments: int) -> dict:
    with run_environment(target) as run:
        migrate(run)
        output = run_python(
            run.env,
            "-m",
            "bench.opendental",
            str(patients),
            str(appointments),
            timeout=INVITE_TIMEOUT_SECONDS,
        )
    return json.loads(output.splitlines()[-1])


def opendental_rows(target: Target) -> list[Row]:
    """Issue 12 item 8 (SPEC O5): `molar opendental sync` against a MariaDB
    Open Dental database of 100,000 patients and 1,000,000 appointments."""
    db = target.label
    progress(f"{db}: Open Dental sync, {OD_PATIENTS // 10:,} patients (memory at a tenth)")
    small = opendental_job(target, OD_PATIENTS // 10, OD_APPOINTMENTS // 10)
    progress(f"{db}: Open Dental sync, {OD_PATIENTS:,} patients, {OD_APPOINTMENTS:,} appointments")
    big = opendental_job(target, OD_PATIENTS, OD_APPOINTMENTS)
    first, nochange, changed = big["first"], big["nochange"], big["changed"]
    size = f"{OD_PATIENTS:,} patients, {OD_APPOINTMENTS:,} appointments"
    return [
        Row(
            f"Open Dental first sync [{db}]",
            first["pass_seconds"],
            "s",
            f"{size}; {first['added']:,} records and {first['accounts']:,} accounts added; "
            f"{first['wall']:.0f} s with start-up; target under 600 s; Open Dental data loaded in "
            f"{big['fill_seconds']:.0f} s",
            1,
        ),
        Row(
            f"Open Dental pass, no changes [{db}]",
            nochange["pass_seconds"],
            "s",
            f"{nochange['wall']:.1f} s with the command's start-up; target under 2 s; "
            f"{nochange['changed']} changed",
            2,
        ),
        Row(
            f"Open Dental pass, 1,000 patients changed [{db}]",
            changed["pass_seconds"],
            "s",
            f"{changed['changed']:,} changed; {changed['wall']:.1f} s with start-up",
            2,
        ),
        Row(
            f"sync peak RSS, first sync [{db}]",
            first["peak_rss_mib"],
            "MiB",
            f"`molar opendental sync` ({size}); at a tenth of the size: "
            f"{small['first']['peak_rss_mib']:.0f} MiB",
            0,
        ),
        Row(
            f"sync peak RSS, no-change pass [{db}]",
            nochange["peak_rss_mib"],
            "MiB",
            "the same command with nothing to write",
            0,
        ),
    ]


def target_errors(result: TargetResult) -> list[str]:
    return [
        *error_lines(f"{result.label} provide access", result.latency.errors),
        *error_lines(f"{result.label} /healthz", result.health.errors),
        *error_lines(f"{result.label} /healthz with session", result.health_session.errors),
        *error_lines(f"{result.label} chart page", result.chart.errors),
        *(
            line
            for name, load in result.tabs.items()
            for line in error_lines(f"{result.label} portal {name} tab", load.errors)
        ),
    ]


def measure_hasher() -> list[Row]:
    """Argon2id in this process, with the server stopped (no contention)."""
    with tempfile.TemporaryDirectory(prefix="molar-bench-") as home:
        os.environ.update(molar_env(Path(home), None))
        import django

        django.setup()
        cost = argon2_cost(HASHER_ROUNDS)
    p = cost.parameters
    note = (
        f"MolarArgon2Hasher m={p['memory_cost']} KiB, t={p['time_cost']}, "
        f"p={p['parallelism']}; median of {cost.rounds}"
    )
    return [
        Row("argon2id make_password", cost.make_ms, "ms", note),
        Row("argon2id check_password", cost.check_ms, "ms", note),
    ]


def invite_job(target: Target, *args: str) -> dict:
    """`python -m bench.invites args...` in a fresh run environment."""
    with run_environment(target) as run:
        migrate(run)
        output = run_python(run.env, "-m", "bench.invites", *args, timeout=INVITE_TIMEOUT_SECONDS)
    return json.loads(output.splitlines()[-1])


def duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def reads_index(plan: str) -> bool:
    """False when the plan reads the whole appointment table."""
    return not any(
        marker in plan for marker in ("Seq Scan on patients_appointment", "SCAN patients_appointment")
    )


def invite_rows(target: Target) -> list[Row]:
    db = target.label
    progress(f"{db}: due-invite scan among {INVITE_APPOINTMENTS:,} appointments")
    scan = invite_job(target, "scan", str(INVITE_APPOINTMENTS))
    progress(f"{db}: one worker sends {INVITE_RATE_COUNT:,} invites")
    rate = invite_job(target, "send", str(INVITE_RATE_COUNT))
    progress(f"{db}: one worker sends {INVITE_MEMORY_COUNT:,} invites (peak memory)")
    memory = invite_job(target, "send", str(INVITE_MEMORY_COUNT))
    stale = scan["stale_median_ms"]
    return [
        Row(
            f"due-invite scan, {INVITE_APPOINTMENTS:,} appts [{db}]",
            scan["median_ms"],
            "ms",
            f"invites_scan(), median of {scan['runs']}, each finding 5 new; appointments over "
            f"±2 years, rules 7 days before + 1 hour after; "
            f"{'reads the index on start' if reads_index(scan['plan']) else 'READS THE WHOLE TABLE'}",
            2,
        ),
        Row(
            f"first scan, {INVITE_APPOINTMENTS:,} appts [{db}]",
            scan["first_ms"],
            "ms",
            f"records the {scan['first_created']:,} invites already due; rows loaded in "
            f"{scan['insert_seconds']:.0f} s"
            + (f"; {stale:,.0f} ms per scan until the invite table is analyzed" if stale else ""),
        ),
        Row(
            f"invites sent, one worker [{db}]",
            rate["per_second"],
            "invites/s",
            f"`molar invites run`, {rate['invites']:,} invites to aiosmtpd, one email each, "
            f"each a new one-time password (Argon2id); {rate['per_second_overall']:.1f}/s "
            f"counting start-up and scan ({duration(rate['seconds'])})",
        ),
        Row(
            f"worker peak RSS, {INVITE_RATE_COUNT:,} invites [{db}]",
            rate["peak_rss_mib"],
            "MiB",
            "ru_maxrss of `molar invites run`",
        ),
        Row(
            f"worker peak RSS, {INVITE_MEMORY_COUNT:,} invites [{db}]",
            memory["peak_rss_mib"],
            "MiB",
            f"ru_maxrss of `molar invites run`; {memory['per_second']:.1f} invites/s, "
            f"{duration(memory['seconds'])} in all",
        ),
    ]


def main() -> int:
    # Other work on the machine moves every figure; the load before the run says how much.
    load_before = os.getloadavg()[0]
    suites = SUITES.get(os.environ.get("BENCH", "web"))
    if suites is None:
        print(f"bench: BENCH must be one of {', '.join(SUITES)}", file=sys.stderr)
        return 2
    targets = [Target("SQLite")]
    if os.environ.get("BENCH_DATABASE_URL"):
        targets.append(Target("PostgreSQL", os.environ["BENCH_DATABASE_URL"]))
    rows: list[Row] = []
    problems: list[str] = []
    notes: list[str] = []
    try:
        if "speed" in suites:
            for target in targets:
                speed, plans = speed_rows(target)
                rows += speed
                notes += plans
        if "web" in suites:
            for target in targets:
                result = measure_target(target)
                problems += target_errors(result)
                rows += target_rows(result)
            progress(f"Argon2id x{HASHER_ROUNDS} in-process")
            rows += measure_hasher()
        if "invites" in suites:
            for target in targets:
                rows += invite_rows(target)
        if "scale" in suites:
            postgres = [t for t in targets if t.database_url]
            if not postgres:
                raise BenchError("BENCH=scale needs BENCH_DATABASE_URL (PostgreSQL)")
            rows += scale_rows(postgres[0])
        if "opendental" in suites:
            for target in targets:
                rows += opendental_rows(target)
    except BenchError as exc:
        print("\n".join([f"bench: {exc}", *problems]), file=sys.stderr)
        return 1
    print(
        f"\nMolar benchmark: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {load_before:.2f} before the run; server and client share these CPUs\n"
    )
    print(table(rows))
    for note in notes:
        print(f"\n{note}")
    if problems:
        print("\nerrors:\n" + "\n".join(problems))
    return 1 if problems else 0
