"""The measures: provide-access latency, page throughput, Argon2id cost.
Every loop stops at a fixed count or a deadline, whichever comes first."""

import json
import math
import secrets
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from bench import BenchError
from bench.client import TRANSPORT_ERRORS, Client

THREAD_JOIN_GRACE_SECONDS = 40.0


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Latency:
    seconds: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)


def provide_latency(port: int, api_key: str, patient_ids: list[int], *, limit_seconds: float) -> Latency:
    """POST /api/v1/patients/{id}/portal-access once per patient, one at a time,
    on one keep-alive connection; only 201s with a password are timed."""
    client = Client(port, headers={"Authorization": f"Bearer {api_key}"})
    result = Latency()
    try:
        for patient_id in patient_ids[:3]:  # warm-up: URLconf, API schema, DB connection
            try:
                client.request("GET", f"/api/v1/patients/{patient_id}/portal-access")
            except TRANSPORT_ERRORS as exc:
                raise BenchError(f"the API did not answer: {exc!r}") from None
        deadline = time.monotonic() + limit_seconds
        for patient_id in patient_ids:
            if time.monotonic() > deadline:
                result.errors["stopped at the time limit"] += 1
                break
            started = time.perf_counter()
            try:
                response = client.request("POST", f"/api/v1/patients/{patient_id}/portal-access")
            except TRANSPORT_ERRORS as exc:
                result.errors[type(exc).__name__] += 1
                continue
            elapsed = time.perf_counter() - started
            if response.status == 201 and "password" in json.loads(response.body):
                result.seconds.append(elapsed)
            else:
                result.errors[f"HTTP {response.status}: {response.body[:120]!r}"] += 1
    finally:
        client.close()
    return result


@dataclass
class Throughput:
    requests: int
    seconds: float
    errors: Counter

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class _Worker:
    """One client thread: its own connection, its own tally."""

    client: Client
    paths: list[str]
    requests: int = 0
    finished_at: float = 0.0
    errors: Counter = field(default_factory=Counter)

    def get(self, index: int) -> bool:
        path = self.paths[index % len(self.paths)]
        try:
            response = self.client.request("GET", path)
        except TRANSPORT_ERRORS as exc:
            self.errors[type(exc).__name__] += 1
            return False
        if response.status != 200:
            self.errors[f"HTTP {response.status}"] += 1
        return response.status == 200

    def run(self, start: threading.Barrier, *, seconds: float, max_requests: int, warmup: int) -> None:
        try:
            for index in range(warmup):
                self.get(index)
            self.errors.clear()
            start.wait()
            deadline = time.perf_counter() + seconds
            while self.requests < max_requests and time.perf_counter() < deadline:
                self.get(warmup + self.requests)
                self.requests += 1
            self.finished_at = time.perf_counter()
        except threading.BrokenBarrierError:
            self.errors["client thread never started"] += 1
        finally:
            self.client.close()


def throughput(
    port: int,
    paths: list[str],
    *,
    threads: int,
    seconds: float,
    max_requests: int,
    cookies: dict[str, str] | None = None,
    warmup: int = 20,
) -> Throughput:
    """GET `paths` in turn from `threads` keep-alive connections for `seconds`
    (or `max_requests` per thread); every answer but 200 counts as an error."""
    start = threading.Barrier(threads + 1, timeout=THREAD_JOIN_GRACE_SECONDS)
    workers = [_Worker(Client(port, cookies=cookies), paths[n::threads] or paths) for n in range(threads)]
    pool = [
        threading.Thread(
            target=w.run,
            args=(start,),
            daemon=True,
            kwargs={"seconds": seconds, "max_requests": max_requests, "warmup": warmup},
        )
        for w in workers
    ]
    for thread in pool:
        thread.start()
    try:
        start.wait()
    except threading.BrokenBarrierError:
        raise BenchError("the client threads did not finish their warm-up") from None
    started = time.perf_counter()
    for thread in pool:
        thread.join(timeout=seconds + THREAD_JOIN_GRACE_SECONDS)
    ended = max((w.finished_at for w in workers), default=started)
    errors = sum((w.errors for w in workers), Counter())
    return Throughput(sum(w.requests for w in workers), max(ended - started, 0.0), errors)


@dataclass(frozen=True)
class HasherCost:
    make_ms: float
    check_ms: float
    rounds: int
    parameters: dict


def argon2_cost(rounds: int) -> HasherCost:
    """Median time of make_password and check_password with the production
    hasher, in this process (Django must be set up)."""
    from django.contrib.auth.hashers import check_password, make_password

    from molar.access.hashers import MolarArgon2Hasher

    hasher = MolarArgon2Hasher()
    password = secrets.token_urlsafe(12)
    make, check = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        encoded = make_password(password, hasher=hasher)
        make.append(time.perf_counter() - started)
        started = time.perf_counter()
        if not check_password(password, encoded):
            raise BenchError("check_password refused the password just hashed")
        check.append(time.perf_counter() - started)
    decoded = hasher.decode(encoded)
    parameters = {k: decoded[k] for k in ("memory_cost", "time_cost", "parallelism")}
    return HasherCost(statistics.median(make) * 1000, statistics.median(check) * 1000, rounds, parameters)
