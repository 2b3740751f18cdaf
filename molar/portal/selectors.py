from django.utils import timezone

from molar.patients.models import Appointment, Patient


def appointments_for(patient: Patient) -> tuple[list[Appointment], list[Appointment]]:
    """(upcoming soonest first, past most recent first)."""
    now = timezone.now()
    rows = Appointment.objects.filter(patient=patient).select_related("provider")
    upcoming = list(rows.filter(start__gte=now).order_by("start")[:200])
    past = list(rows.filter(start__lt=now).order_by("-start")[:200])
    return upcoming, past
