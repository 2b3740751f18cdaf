from django.db import models


class SyncState(models.Model):
    """One row (pk=1): where the next pass starts (SPEC O3), the lease that lets
    one pass run at a time across processes, and an unfinished pass to resume.

    The lease is claimed under a row lock (`select_for_update(skip_locked=True)`)
    held only for the claim; the pass then renews `lease_until` after every
    batch, so a crashed worker's lease runs out and another takes over."""

    # Server time (UTC) when the last finished pass started: the next one reads
    # rows stamped since then, less the overlap window.
    since = models.DateTimeField(null=True, blank=True)
    # Largest HistApptNum and EhrMeasureEventNum read (rows only added).
    hist_key = models.BigIntegerField(default=0)
    event_key = models.BigIntegerField(default=0)
    last_full_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # {"pass": id, "full": bool, "since": iso|None, "server_now": iso,
    #  "phase": name, "after": key}: an interrupted pass resumes from here.
    checkpoint = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"Open Dental sync since {self.since}"

    @classmethod
    def load(cls) -> "SyncState":
        state, _ = cls.objects.get_or_create(pk=1)
        return state


class SyncPass(models.Model):
    """One pass of the sync and what it did (SPEC O1: status page and command)."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "Finished"
        FAILED = "failed", "Failed"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    full = models.BooleanField(default=False)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.RUNNING)
    # The one line that says why a pass failed.
    message = models.TextField(blank=True)
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    archived = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    accounts = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    # Per kind of record: {"patients": {"added": 1, ...}, ...}
    detail = models.JSONField(default=dict, blank=True)
    # The first problems and username clashes, one sentence each (SPEC O4).
    problems = models.JSONField(default=list, blank=True)
    clashes = models.JSONField(default=list, blank=True)
    resumed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Open Dental pass {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"

    @property
    def total_changes(self) -> int:
        return self.added + self.changed + self.archived + self.removed + self.accounts

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
