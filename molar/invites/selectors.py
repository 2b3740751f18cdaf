import datetime

from django.db.models import QuerySet
from django.utils import timezone

from .models import Invite


def invites_filtered(*, status: str = "", patient_id: int | None = None,
                     start: datetime.date | None = None,
                     end: datetime.date | None = None) -> QuerySet[Invite]:
    """Invites newest first, by status, patient and the day they were recorded."""
    rows = Invite.objects.select_related("patient", "rule", "appointment")
    if status:
        rows = rows.filter(status=status)
    if patient_id:
        rows = rows.filter(patient_id=patient_id)
    zone = timezone.get_current_timezone()
    if start:
        rows = rows.filter(created_at__gte=datetime.datetime.combine(start, datetime.time(), zone))
    if end:
        after = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(), zone)
        rows = rows.filter(created_at__lt=after)
    return rows.order_by("-created_at", "-id")
