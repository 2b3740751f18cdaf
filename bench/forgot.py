"""SPEC K3: forgot password takes the same time for a known and an unknown
username. Run in its own process after `molar migrate` with MOLAR_HOME (and
DATABASE_URL) set: `python -m bench.forgot [TRIES]`. Posts the forgot form
TRIES times for a patient with access and an email, and TRIES times for a
name nobody has, alternating, through Django's test client with the
production hasher; prints one JSON line with both medians in ms."""

import json
import statistics
import sys
import time

import django

TRIES = 50


def main(tries: int) -> dict:
    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from bench.seed import PRACTICE_SETTINGS, patient_fields
    from molar.access.services import access_provide
    from molar.audit.services import Actor
    from molar.patients.services import patient_create
    from molar.practice.services import practice_settings_update

    setup_test_environment()  # the test client's Host header passes ALLOWED_HOSTS
    actor = Actor.system("bench")
    practice_settings_update(actor=actor, **PRACTICE_SETTINGS)
    patient = patient_create(actor=actor, **{**patient_fields(900_001), "external_id": "bench-forgot"})
    known = access_provide(patient=patient, actor=actor).username
    client = Client()
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(tries * 2 + 4):
        which = "known" if i % 2 == 0 else "unknown"
        username = known if which == "known" else f"Nobody{i:05d}"
        started = time.perf_counter()
        response = client.post("/portal/forgot/", {"username": username})
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 302:
            raise SystemExit(f"forgot password answered HTTP {response.status_code}")
        if i >= 4:  # the first two of each warm up
            timings[which].append(elapsed)
    return {name: statistics.median(values) for name, values in timings.items()} | {"tries": tries}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else TRIES)))
