"""The speed suite (issue 9, SPEC Q1-Q3): portal tabs next to /healthz with
the same session cookie at 32 connections (wrk), sign-ins next to raw
Argon2id at the same parallelism, the family lookup's plan, and staff and
patient requests while a 2,000-patient bulk grant runs. On PostgreSQL the
database holds 100,000 patients (bench.scale fill)."""

import json
import re
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bench import BenchError, cpu
from bench.client import CSRF_FIELD, TRANSPORT_ERRORS, Client, portal_session, staff_session
from bench.report import Row
from bench.server import SESSIONS

CONNECTIONS = 32
WRK_THREADS = 2
WRK_SECONDS = 8
SIGN_IN_PARALLELISM = 4
SIGN_IN_SECONDS = 8.0
BULK_PATIENTS = 2000
BULK_SAMPLE_SECONDS = 20.0
TAB_TARGET, P99_TARGET_MS, SIGN_IN_TARGET = 0.5, 50.0, 0.8
TABS = {
    "Home": "/portal/home/",
    "Appointments": "/portal/appointments/",
    "Account": "/portal/account/",
    "Treatment Plan": "/portal/treatment-plan/",
    "Messages": "/portal/messages/",
    "Health Summary": "/portal/health-summary/",
    "Documents": "/portal/documents/",
}


@dataclass
class Wrk:
    per_second: float
    p99_ms: float
    non_2xx: int
    errors: int
    cost: cpu.Cost | None = None


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(port: int, path: str, cookies: dict[str, str]) -> Wrk:
    """`wrk` (C, from Debian) rather than Python threads: at 32 connections
    a Python client would measure itself."""
    if shutil.which("wrk") is None:
        raise BenchError("the speed suite needs wrk: apt-get install wrk (scripts/bench-deps.sh)")
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    argv = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{WRK_SECONDS}s",
        "--latency",
        "-H",
        f"Cookie: {cookie}",
        f"http://127.0.0.1:{port}{path}",
    ]
    session = SESSIONS.get(port)
    before = cpu.usage(session) if session else None
    out = subprocess.run(argv, capture_output=True, text=True, timeout=WRK_SECONDS + 60, check=False).stdout
    after = cpu.usage(session) if session else None
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    served = re.search(r"^\s*(\d+) requests in", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)\s*$", out, re.MULTILINE)
    if not rate or not p99:
        raise BenchError(f"wrk gave no figures for {path}:\n{out[-600:]}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*?(\d+), write (\d+), timeout (\d+)", out)
    return Wrk(
        float(rate.group(1)),
        _ms(p99.group(1)),
        int(non_2xx.group(1)) if non_2xx else 0,
        sum(int(n) for n in errors.groups()) if errors else 0,
        cpu.per_request(before, after, int(served.group(1))) if before and after and served else None,
    )


@dataclass
class SignIns:
    per_second: float
    count: int
    errors: list[str] = field(default_factory=list)


def _sign_in_loop(
    port: int,
    username: str,
    password: str,
    until: list[float],
    start: threading.Barrier,
    tally: list,
    errors: list,
) -> None:
    client = Client(port)
    try:
        page = client.request("GET", "/portal/")
        token = CSRF_FIELD.search(page.body).group(1).decode()
        form = urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password})
        start.wait()
        while time.perf_counter() < until[0]:
            client.cookies.pop("sessionid", None)  # a new visitor each time, same CSRF cookie
            answer = client.request(
                "POST",
                "/portal/",
                body=form.encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            if answer.status == 302:
                tally.append(1)
            else:
                errors.append(f"HTTP {answer.status}")
    except TRANSPORT_ERRORS as exc:
        errors.append(type(exc).__name__)
    finally:
        client.close()


def sign_ins(port: int, usernames: list[str], password: str) -> SignIns:
    """SIGN_IN_PARALLELISM clients, each signing in as its own patient again and again."""
    until, tally, errors = [0.0], [], []
    start = threading.Barrier(SIGN_IN_PARALLELISM + 1)
    pool = [
        threading.Thread(
            target=_sign_in_loop, args=(port, usernames[n], password, until, start, tally, errors)
        )
        for n in range(SIGN_IN_PARALLELISM)
    ]
    for thread in pool:
        thread.start()
    until[0] = time.perf_counter() + SIGN_IN_SECONDS
    began = time.perf_counter()
    start.wait()
    for thread in pool:
        thread.join(timeout=SIGN_IN_SECONDS + 60)
    return SignIns(len(tally) / (time.perf_counter() - began), len(tally), errors)


def _cost(db: str, run: Wrk) -> str:
    """Where a run's CPU went, per request (PostgreSQL's own processes; on
    SQLite the database works inside the server)."""
    return f"; {run.cost.describe('PostgreSQL' if db == 'PostgreSQL' else None)}" if run.cost else ""


def tab_rows(db: str, port: int, cookies: dict[str, str]) -> list[Row]:
    base = wrk(port, "/healthz", cookies)
    rows = [
        Row(
            f"/healthz with portal session [{db}]",
            base.per_second,
            "req/s",
            f"wrk -c{CONNECTIONS}, {WRK_SECONDS} s; p99 {base.p99_ms:.1f} ms; the baseline" + _cost(db, base),
            0,
        )
    ]
    for name, path in TABS.items():
        tab = wrk(port, path, cookies)
        ratio = tab.per_second / base.per_second if base.per_second else 0.0
        met = "met" if ratio >= TAB_TARGET and tab.p99_ms <= P99_TARGET_MS else "NOT MET"
        rows.append(
            Row(
                f"portal {name} / healthz [{db}]",
                ratio,
                "ratio",
                f"{tab.per_second:,.0f} req/s, p99 {tab.p99_ms:.1f} ms at {CONNECTIONS} "
                f"connections; target >= {TAB_TARGET} and p99 <= {P99_TARGET_MS:.0f} ms: {met}"
                + (f"; {tab.non_2xx} non-2xx" if tab.non_2xx else "")
                + (f"; {tab.errors} socket errors" if tab.errors else "")
                + _cost(db, tab),
                2,
            )
        )
    return rows


def sign_in_rows(db: str, port: int, accounts: dict, raw_rate: Callable[[], float]) -> list[Row]:
    """Sign-ins next to raw Argon2id measured right before and right after
    them (the server idle meanwhile): one raw measurement alone moved by a
    third between runs on a shared machine."""
    before = raw_rate()
    done = sign_ins(port, accounts["usernames"], accounts["password"])
    after = raw_rate()
    if done.errors and not done.count:
        raise BenchError(f"{db}: no sign-in succeeded: {done.errors[:3]}")
    raw = (before + after) / 2
    ratio = done.per_second / raw if raw else 0.0
    met = "met" if ratio >= SIGN_IN_TARGET else "NOT MET"
    return [
        Row(
            f"raw Argon2id verify x{SIGN_IN_PARALLELISM} [{db}]",
            raw,
            "/s",
            f"{SIGN_IN_PARALLELISM} threads in one process, server idle; mean of {before:.1f} before "
            f"and {after:.1f} after the sign-ins",
            1,
        ),
        Row(
            f"portal sign-ins / raw Argon2id [{db}]",
            ratio,
            "ratio",
            f"{done.per_second:.1f} sign-ins/s from {SIGN_IN_PARALLELISM} clients, {done.count} in "
            f"{SIGN_IN_SECONDS:.0f} s; target >= {SIGN_IN_TARGET}: {met}"
            + (f"; {len(done.errors)} errors" if done.errors else ""),
            2,
        ),
    ]


@dataclass
class Samples:
    patch_ms: list[float] = field(default_factory=list)
    sign_in_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _timed(client: Client, method: str, path: str, body: bytes, headers: dict) -> tuple[float, int]:
    started = time.perf_counter()
    answer = client.request(method, path, body=body, headers=headers)
    return (time.perf_counter() - started) * 1000, answer.status


def during_bulk_grant(
    port: int, api_key: str, patient_id: int, account: tuple[str, str], grant: subprocess.Popen
) -> Samples:
    """A PATCH of another patient and a portal sign-in, every half second,
    while the grant runs."""
    samples = Samples()
    api = Client(port, headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"})
    portal = Client(port)
    token = CSRF_FIELD.search(portal.request("GET", "/portal/").body).group(1).decode()
    form = urlencode({"csrfmiddlewaretoken": token, "username": account[0], "password": account[1]}).encode()
    deadline, n = time.monotonic() + BULK_SAMPLE_SECONDS, 0
    try:
        while time.monotonic() < deadline and grant.poll() is None:
            n += 1
            ms, status = _timed(
                api, "PATCH", f"/api/v1/patients/{patient_id}", json.dumps({"city": f"Bath{n}"}).encode(), {}
            )
            (samples.patch_ms if status == 200 else samples.errors).append(
                ms if status == 200 else f"PATCH {status}"
            )
            portal.cookies.pop("sessionid", None)
            ms, status = _timed(
                portal, "POST", "/portal/", form, {"Content-Type": "application/x-www-form-urlencoded"}
            )
            (samples.sign_in_ms if status == 302 else samples.errors).append(
                ms if status == 302 else f"sign-in {status}"
            )
            time.sleep(0.5)
    finally:
        api.close()
        portal.close()
    return samples


def bulk_rows(db: str, samples: Samples, granted_while: int) -> list[Row]:
    if not samples.patch_ms or not samples.sign_in_ms:
        raise BenchError(f"{db}: no request finished during the bulk grant: {samples.errors[:3]}")
    note = (
        f"while `molar bulk grant` of {BULK_PATIENTS:,} patients ran ({granted_while} granted "
        f"in the first {BULK_SAMPLE_SECONDS:.0f} s); target: each within 1 s"
    )
    return [
        Row(
            f"PATCH another patient during bulk grant, max [{db}]",
            max(samples.patch_ms),
            "ms",
            f"median {statistics.median(samples.patch_ms):.0f} ms of {len(samples.patch_ms)}; {note}",
        ),
        Row(
            f"portal sign-in during bulk grant, max [{db}]",
            max(samples.sign_in_ms),
            "ms",
            f"median {statistics.median(samples.sign_in_ms):.0f} ms of {len(samples.sign_in_ms)}"
            + (f"; {len(samples.errors)} errors" if samples.errors else ""),
        ),
    ]


__all__ = ["bulk_rows", "during_bulk_grant", "portal_session", "sign_in_rows", "staff_session", "tab_rows"]
