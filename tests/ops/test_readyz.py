"""SPEC Q4: /readyz checks the database and the worker's heartbeat; warning
checks add "warning" without failing; /healthz stays liveness only."""

import datetime

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from molar.ops import readiness
from molar.ops.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def backlog_warning() -> str:
    return "12 audit events older than 5 minutes are not sealed"


def all_well() -> str:
    return ""


def broken_check() -> str:
    raise RuntimeError("bug in the check")


def beat(age_seconds: float, name: str = "host:1") -> None:
    seen = timezone.now() - datetime.timedelta(seconds=age_seconds)
    WorkerHeartbeat.objects.create(name=name, started_at=seen, last_seen=seen)


def readyz():
    response = Client().get("/readyz")
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response.status_code, response.json()


def test_ready_with_a_database_and_a_recent_heartbeat():
    beat(10)
    status, body = readyz()
    assert status == 200 and body["status"] == "ok"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["worker"]["status"] == "ok" and 9 <= body["checks"]["worker"]["age_seconds"] < 60


def test_fails_without_any_worker_heartbeat():
    status, body = readyz()
    assert status == 503 and body["status"] == "fail"
    assert body["checks"]["worker"] == {"status": "fail", "detail": "no worker has ever run"}
    assert body["checks"]["database"] == {"status": "ok"}


def test_fails_when_the_newest_heartbeat_is_older_than_the_threshold(settings):
    settings.WORKER_STALE_SECONDS = 180
    beat(181)
    status, body = readyz()
    assert status == 503 and body["checks"]["worker"]["status"] == "fail"
    assert body["checks"]["worker"]["detail"].startswith("no worker seen for 18")
    beat(170, name="host:2")  # another worker is alive
    assert readyz()[0] == 200


def test_fails_when_the_database_does_not_answer(monkeypatch):
    beat(1)

    def unreachable():
        raise OperationalError("connection to server at 127.0.0.1 failed: timeout expired")

    monkeypatch.setattr(readiness, "database_answers", unreachable)
    status, body = readyz()
    assert status == 503 and body["status"] == "fail"
    assert body["checks"]["database"] == {
        "status": "fail",
        "detail": "the database does not answer (OperationalError)",
    }


def test_warning_checks_warn_without_failing(monkeypatch):
    beat(1)
    monkeypatch.setattr(
        readiness,
        "WARNING_CHECKS",
        [
            ("audit_sealing", "tests.ops.test_readyz.backlog_warning"),
            ("quiet", "tests.ops.test_readyz.all_well"),
            ("broken", "tests.ops.test_readyz.broken_check"),
        ],
    )
    status, body = readyz()
    assert status == 200 and body["status"] == "warning"
    assert body["checks"]["audit_sealing"] == {"status": "warning", "detail": backlog_warning()}
    assert body["checks"]["quiet"] == {"status": "ok"}
    assert body["checks"]["broken"] == {"status": "warning", "detail": "the check failed (RuntimeError)"}


def test_a_warning_does_not_hide_a_failure(monkeypatch):
    monkeypatch.setattr(
        readiness, "WARNING_CHECKS", [("audit_sealing", "tests.ops.test_readyz.backlog_warning")]
    )
    status, body = readyz()
    assert status == 503 and body["status"] == "fail"


def test_healthz_stays_liveness_only(monkeypatch):
    monkeypatch.setattr(readiness, "database_answers", lambda: (_ for _ in ()).throw(OperationalError()))
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"
