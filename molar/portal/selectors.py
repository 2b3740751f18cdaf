from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dates import MONTHS, WEEKDAYS

from molar.patients.models import Appointment, Patient

PAST_SHOWN = 50  # a long history pages nobody reads; the most recent visits matter
UPCOMING_SHOWN = 100
STATUS_LABELS = dict(Appointment.Status.choices)


@dataclass(frozen=True)
class Visit:
    """What the portal shows of an appointment: plain values, not a model
    (building 150 model instances cost more than the rest of the page)."""

    start: datetime
    duration_minutes: int
    provider: str | None
    status: str

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))


def _visits(rows: QuerySet[Appointment]) -> list[Visit]:
    return [Visit(*row) for row in rows.values_list("start", "duration_minutes", "provider__name", "status")]


def appointments_for(patient: Patient) -> tuple[list[Visit], list[Visit]]:
    """(upcoming soonest first, the most recent past visits first)."""
    now = timezone.now()
    rows = Appointment.objects.filter(patient=patient)
    upcoming = _visits(rows.filter(start__gte=now).order_by("start")[:UPCOMING_SHOWN])
    past = _visits(rows.filter(start__lt=now).order_by("-start")[:PAST_SHOWN])
    return upcoming, past


def next_appointment(patient: Patient) -> list[Visit]:
    """The next scheduled visit, as a list of at most one (SPEC V2 home)."""
    rows = Appointment.objects.filter(
        patient=patient, start__gte=timezone.now(), status=Appointment.Status.SCHEDULED
    )
    return _visits(rows.order_by("start")[:1])


@dataclass(frozen=True)
class AppointmentRow:
    """One table row, formatted once here: the template engine's date filter
    costs about as much as the rest of the page for a long history (SPEC Q1)."""

    start_iso: str
    date_text: str
    time_text: str
    provider: str
    status: str


def appointment_rows(visits: list[Visit]) -> list[AppointmentRow]:
    # Day and month names looked up once per page, not once per row.
    days, months = [str(WEEKDAYS[n]) for n in range(7)], {n: str(MONTHS[n]) for n in MONTHS}
    rows = []
    for visit in visits:
        local = timezone.localtime(visit.start)
        hour = local.hour % 12 or 12
        rows.append(
            AppointmentRow(
                local.isoformat(),
                f"{days[local.weekday()]}, {months[local.month]} {local.day}, {local.year}",
                f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}",
                visit.provider or "",
                visit.status_label,
            )
        )
    return rows
