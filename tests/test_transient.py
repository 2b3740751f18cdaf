"""SPEC Q4, I6: which database errors are transient, and retrying through them."""

import pytest
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError

from molar import transient
from molar.transient import is_transient, retry_transient


def test_deadlocks_lost_connections_and_timeouts_are_transient():
    assert is_transient(OperationalError("deadlock detected"))
    assert is_transient(OperationalError("could not serialize access due to concurrent update"))
    assert is_transient(OperationalError("canceling statement due to statement timeout"))
    assert is_transient(InterfaceError("connection already closed"))
    assert not is_transient(IntegrityError("duplicate key"))
    assert not is_transient(DatabaseError("something else"))
    assert not is_transient(ValueError("bug"))


class Flaky:
    def __init__(self, failures: int, exc: Exception | None = None):
        self.failures, self.calls = failures, 0
        self.exc = exc or OperationalError("deadlock detected")

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc
        return "done"


@pytest.fixture
def no_waiting(monkeypatch):
    waits = []
    monkeypatch.setattr(transient.time, "sleep", waits.append)
    return waits


def test_work_is_retried_until_it_succeeds(no_waiting):
    work = Flaky(3)
    assert retry_transient(work, within=10) == "done"
    assert work.calls == 4 and no_waiting == [0.05, 0.1, 0.2]


def test_retrying_stops_after_the_time_allowed(monkeypatch, no_waiting):
    clock = iter(range(0, 1000, 1))
    monkeypatch.setattr(transient.time, "monotonic", lambda: next(clock))
    work = Flaky(1000)
    with pytest.raises(OperationalError):
        retry_transient(work, within=5)
    assert 1 < work.calls < 10


def test_other_errors_are_not_retried(no_waiting):
    work = Flaky(1, exc=IntegrityError("duplicate key"))
    with pytest.raises(IntegrityError):
        retry_transient(work, within=10)
    assert work.calls == 1 and no_waiting == []
