"""SPEC O1/Q3: several workers call the sync at once; one pass runs (PostgreSQL:
real row locks between connections)."""

import threading

import pytest
from django.db import connections

from molar.opendental.models import SyncPass
from molar.opendental.services import opendental_sync_if_due
from molar.patients.models import Patient

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_workers_calling_at_once_run_one_pass(od):
    for n in range(50):
        od.patient(FName=f"P{n}")
    barrier, results = threading.Barrier(4), []

    def worker():
        try:
            barrier.wait()
            results.append(opendental_sync_if_due())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ran = [r for r in results if r is not None]
    assert len(ran) == 1 and ran[0].added == 50
    assert SyncPass.objects.count() == 1 and Patient.objects.count() == 50
