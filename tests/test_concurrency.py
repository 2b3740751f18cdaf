"""SPEC W9 and U1 under real concurrency (PostgreSQL row locks)."""

import threading

import pytest
from django.db import connection

from molar.access.models import AccessEvent, PortalAccount
from molar.access.services import access_provide
from molar.audit.services import Actor
from molar.refusal import Kind, Refused

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_threads(count: int, work) -> list:
    results, barrier = [], threading.Barrier(count)

    def runner(i):
        barrier.wait()
        try:
            results.append(work(i))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_many_staff_providing_at_once_make_one_account(practice, complete_patient):
    results = run_in_threads(
        8, lambda i: access_provide(patient=complete_patient, actor=Actor.system(f"desk{i}"))
    )
    granted = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(granted) == 1 and len(refused) == 7, results
    assert all(r.kind == Kind.CONFLICT for r in refused)
    account = PortalAccount.objects.get(patient=complete_patient)
    assert account.check_password(granted[0].password)
    assert AccessEvent.objects.count() == 1


def test_many_patients_with_one_first_name_get_unique_usernames(practice, make_patient, monkeypatch):
    from molar.access import services

    patients = [make_patient(first_name="Jo") for _ in range(12)]
    # A tiny number range forces collisions between the threads.
    numbers = iter(range(10_000))
    lock = threading.Lock()

    def candidate(first_name):
        with lock:
            return f"Jo{100 + next(numbers) % 20}"

    monkeypatch.setattr(services, "username_candidate", candidate)
    results = run_in_threads(12, lambda i: access_provide(patient=patients[i], actor=Actor.system("test")))
    assert not [r for r in results if isinstance(r, Exception)], results
    names = [account.username_folded for account in PortalAccount.objects.all()]
    assert len(names) == 12 and len(set(names)) == 12
