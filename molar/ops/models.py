from django.db import models


class WorkerHeartbeat(models.Model):
    """SPEC Q4: each running worker writes when it last went round its loop;
    /readyz fails when no worker has been seen for a while."""

    name = models.CharField(max_length=64, unique=True)  # host:pid
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.name} seen {self.last_seen:%Y-%m-%d %H:%M:%S}"
