"""`/readyz` (SPEC Q4): can this deployment do its work? `/healthz` only says
the process answers; this also asks the database and the worker.

- "fail" (503): the database does not answer, or no worker heartbeat is
  younger than WORKER_STALE_SECONDS. A load balancer or orchestrator should
  act on it.
- "warning" (200): one of WARNING_CHECKS found something for a person to look
  at; the service still works.
- "ok" (200).

To add a warning check, append ("name", "dotted.path.to.function") to
WARNING_CHECKS. The function takes no argument and returns "" when all is
well, or one short sentence (no secrets, no patient data: the endpoint is
public) that is shown as `checks[name].detail`. An exception in it counts as
a warning too. For example, SPEC T4's unsealed-audit backlog:

    ("audit_sealing", "molar.audit.sealing.backlog_warning"),
"""

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import WorkerHeartbeat

OK, WARNING, FAIL = "ok", "warning", "fail"

WARNING_CHECKS: list[tuple[str, str]] = [
    ("audit_sealing", "molar.audit.sealing.backlog_warning"),  # SPEC T4
]


def database_answers() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _database() -> dict:
    try:
        database_answers()
    except Exception as exc:  # noqa: BLE001 - any failure here means "not ready"
        return {"status": FAIL, "detail": f"the database does not answer ({type(exc).__name__})"}
    return {"status": OK}


def _worker(stale_after: int) -> dict:
    try:
        last = WorkerHeartbeat.objects.order_by("-last_seen").values_list("last_seen", flat=True).first()
    except Exception as exc:  # noqa: BLE001
        return {"status": FAIL, "detail": f"no worker heartbeat readable ({type(exc).__name__})"}
    if last is None:
        return {"status": FAIL, "detail": "no worker has ever run"}
    age = (timezone.now() - last).total_seconds()
    result = {"last_seen": last.isoformat(), "age_seconds": round(age, 1)}
    if age > stale_after:
        return {"status": FAIL, "detail": f"no worker seen for {int(age)} s", **result}
    return {"status": OK, **result}


def _warning(path: str) -> dict:
    try:
        detail = import_string(path)()
    except Exception as exc:  # noqa: BLE001 - a broken check is worth a look, not an outage
        return {"status": WARNING, "detail": f"the check failed ({type(exc).__name__})"}
    return {"status": WARNING, "detail": detail} if detail else {"status": OK}


def readiness() -> dict:
    """{"status": "ok"|"warning"|"fail", "checks": {name: {"status": ..., ...}}}"""
    checks = {"database": _database(), "worker": _worker(settings.WORKER_STALE_SECONDS)}
    for name, path in WARNING_CHECKS:
        checks[name] = _warning(path)
    statuses = {check["status"] for check in checks.values()}
    status = FAIL if FAIL in statuses else WARNING if WARNING in statuses else OK
    return {"status": status, "checks": checks}
