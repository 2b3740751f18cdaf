"""The worker's own state (SPEC Q4)."""

from datetime import datetime, timedelta

from django.utils import timezone

from .models import WorkerHeartbeat

# Rows of workers that stopped (each start is a new host:pid) go after a week.
FORGET_AFTER = timedelta(days=7)


def worker_heartbeat(*, name: str, started_at: datetime, now: datetime | None = None) -> None:
    """Record that worker `name` is alive now."""
    now = now or timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"last_seen": now}, create_defaults={"last_seen": now, "started_at": started_at}
    )
    WorkerHeartbeat.objects.filter(last_seen__lt=now - FORGET_AFTER).delete()
