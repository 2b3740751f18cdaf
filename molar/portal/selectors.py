from django.utils import timezone

from molar.patients.models import Appointment, Patient

PAST_SHOWN = 50  # a long history pages nobody reads; the most recent visits matter
UPCOMING_SHOWN = 100


def appointments_for(patient: Patient) -> tuple[list[Appointment], list[Appointment]]:
    """(upcoming soonest first, the most recent past visits first)."""
    now = timezone.now()
    rows = Appointment.objects.filter(patient=patient).select_related("provider")
    upcoming = list(rows.filter(start__gte=now).order_by("start")[:UPCOMING_SHOWN])
    past = list(rows.filter(start__lt=now).order_by("-start")[:PAST_SHOWN])
    return upcoming, past
