import datetime

from django.db.models import QuerySet

from molar.dates import day_after, day_start

from .models import Invite


def invites_filtered(
    *,
    status: str = "",
    patient_id: int | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> QuerySet[Invite]:
    """Invites newest first, by status, patient and the day they were recorded."""
    rows = Invite.objects.select_related("patient", "rule", "appointment")
    if status:
        rows = rows.filter(status=status)
    if patient_id:
        rows = rows.filter(patient_id=patient_id)
    if start:  # SPEC X4: clamped days, never an overflow
        rows = rows.filter(created_at__gte=day_start(start))
    if end:
        rows = rows.filter(created_at__lt=day_after(end))
    return rows.order_by("-created_at", "-id")
