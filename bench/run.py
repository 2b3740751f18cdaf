"""`python -m bench`: set up, serve, measure, stop, print one table."""

import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench import BenchError
from bench.client import staff_session
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
SETUP_TIMEOUT_SECONDS = 120


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run_python(env: dict[str, str], *args: str) -> str:
    """Run `python args...` in the run's environment; its stdout, or BenchError."""
    try:
        done = subprocess.run(
            [sys.executable, *args],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=SETUP_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(args)} took over {SETUP_TIMEOUT_SECONDS} s") from None
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-10:])
        raise BenchError(f"{' '.join(args)} failed ({done.returncode}):\n{tail}")
    return done.stdout


def set_up(run: RunEnvironment) -> dict:
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
    return json.loads(run_python(run.env, "-m", "bench.seed", str(PATIENTS)).splitlines()[-1])


@dataclass
class TargetResult:
    label: str
    latency: Latency
    health: Throughput
    health_session: Throughput
    chart: Throughput


def measure_target(target: Target) -> TargetResult:
    with run_environment(target) as run:
        progress(f"{target.label}: migrate and {PATIENTS} complete patients")
        data = set_up(run)
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
            return TargetResult(
                target.label,
                latency,
                health=throughput(port, ["/healthz"], **load),
                health_session=throughput(port, ["/healthz"], cookies=cookies, **load),
                chart=throughput(
                    port, [f"/staff/patients/{pk}/" for pk in ids], cookies=cookies, **load
                ),
            )


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
            f"POST /api/v1/patients/{{id}}/portal-access, {len(ms)} sequential, "
            f"{error_note(latency.errors)}",
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
            f"/staff/patients/<id>/ signed in, {chart.requests} requests, "
            f"{error_note(chart.errors)}",
            0,
        ),
        Row(
            f"chart / healthz [{db}]",
            chart.per_second / health.per_second if health.per_second else 0.0,
            "ratio",
            "chart page req/s over /healthz req/s: the figure that counts",
            2,
        ),
    ]


def target_errors(result: TargetResult) -> list[str]:
    return [
        *error_lines(f"{result.label} provide access", result.latency.errors),
        *error_lines(f"{result.label} /healthz", result.health.errors),
        *error_lines(f"{result.label} /healthz with session", result.health_session.errors),
        *error_lines(f"{result.label} chart page", result.chart.errors),
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


def main() -> int:
    # Other work on the machine moves every figure; the load before the run says how much.
    load_before = os.getloadavg()[0]
    targets = [Target("SQLite")]
    if os.environ.get("BENCH_DATABASE_URL"):
        targets.append(Target("PostgreSQL", os.environ["BENCH_DATABASE_URL"]))
    rows: list[Row] = []
    problems: list[str] = []
    try:
        for target in targets:
            result = measure_target(target)
            problems += target_errors(result)
            rows += target_rows(result)
        progress(f"Argon2id x{HASHER_ROUNDS} in-process")
        rows += measure_hasher()
    except BenchError as exc:
        print("\n".join([f"bench: {exc}", *problems]), file=sys.stderr)
        return 1
    print(
        f"\nMolar benchmark: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {load_before:.2f} before the run; server and client share these CPUs\n"
    )
    print(table(rows))
    if problems:
        print("\nerrors:\n" + "\n".join(problems))
    return 1 if problems else 0
