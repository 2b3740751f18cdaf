"""SPEC E1: the ElectronicCopyAccess measure.

Denominator: unique patients with a completed visit by the chosen provider(s)
in the period. Numerator: those whose earliest `OnlineAccessProvided` event is
on or before the end of the 4th business day after their first visit in the
period (access before the visit counts). One aggregate query; deadlines come
from a per-day cache, so a year of a large practice stays well under a second."""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Min, OuterRef, Subquery
from django.utils import timezone

from molar.access.models import AccessEvent
from molar.dates import END_BEFORE_START, day_after, day_start, window_refusal
from molar.patients.models import Appointment, Patient
from molar.practice.models import PracticeSettings

from .businessdays import business_deadline

THRESHOLD = 50  # percent; the measure needs MORE than this
DESCRIPTION = (
    "More than 50% of all unique patients seen by the provider during the reporting "
    "period are provided timely (within 4 business days after the information is "
    "available) online access to their health information."
)
PERIOD_MOST_DAYS = 3 * 366
PERIOD_TOO_LONG = "Choose a reporting period of at most three years."


def period_refusal(
    start: datetime.date | None, end: datetime.date | None, *, reversed_text: str = END_BEFORE_START
) -> str | None:
    """The reporting period the dashboard, its CSV and the API accept: in
    order and at most three years long (a longer one is a slow page)."""
    return window_refusal(
        start, end, reversed_text=reversed_text, most_days=PERIOD_MOST_DAYS, too_long_text=PERIOD_TOO_LONG
    )


@dataclass(slots=True)
class PatientResult:
    patient_id: int
    first_visit: datetime.date
    deadline: datetime.date
    access_on: datetime.date | None
    met: bool
    name: str = ""  # filled only for the rows shown (attach_names)

    @property
    def reason(self) -> str:
        if self.met:
            return f"Online access provided {self.access_on:%Y-%m-%d}"
        if self.access_on is None:
            return f"Visit {self.first_visit:%Y-%m-%d}, no online access provided"
        return (
            f"Visit {self.first_visit:%Y-%m-%d}, online access provided {self.access_on:%Y-%m-%d}, "
            f"after the {self.deadline:%Y-%m-%d} deadline"
        )


@dataclass
class MeasureResult:
    start: datetime.date
    end: datetime.date
    provider_id: int | None
    numerator: int = 0
    denominator: int = 0
    patients: list[PatientResult] = field(default_factory=list)
    threshold: int = THRESHOLD

    @property
    def percentage(self) -> float | None:
        return round(100 * self.numerator / self.denominator, 1) if self.denominator else None

    @property
    def met(self) -> bool:
        return self.denominator > 0 and self.numerator * 100 > self.threshold * self.denominator


def _local_bounds(start: datetime.date, end: datetime.date):
    return day_start(start), day_after(end)  # SPEC X4: clamped, never an overflow


# PostgreSQL: both aggregates in one statement, joined by hash, the local days
# computed by the server. (The ORM's correlated subquery took seconds on a
# year of a 100,000-patient practice; this takes about 0.3 s.)
FIRST_VISITS_SQL = """
SELECT v.patient_id, (v.first_visit AT TIME ZONE %s)::date, (a.first_access AT TIME ZONE %s)::date
FROM (SELECT patient_id, MIN(start) AS first_visit FROM {appointments}
      WHERE status = %s AND start >= %s AND start < %s {provider} GROUP BY patient_id) v
LEFT JOIN (SELECT patient_id, MIN(created_at) AS first_access FROM {events}
           WHERE kind = %s GROUP BY patient_id) a ON a.patient_id = v.patient_id
"""


def _first_visits(start, end, provider_id) -> Iterator[tuple[int, datetime.date, datetime.date | None]]:
    """(patient, local day of the first completed visit in the period, local day
    of the earliest OnlineAccessProvided event or None), one per patient."""
    since, until = _local_bounds(start, end)
    zone = str(timezone.get_current_timezone())
    if connection.vendor == "postgresql":
        sql = FIRST_VISITS_SQL.format(
            appointments=connection.ops.quote_name(Appointment._meta.db_table),
            events=connection.ops.quote_name(AccessEvent._meta.db_table),
            provider="AND provider_id = %s" if provider_id else "",
        )
        params = [
            zone,
            zone,
            Appointment.Status.COMPLETE,
            since,
            until,
            *([provider_id] if provider_id else []),
            AccessEvent.Kind.ONLINE_ACCESS_PROVIDED,
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            yield from cursor.fetchall()
        return
    yield from _first_visits_orm(since, until, provider_id)


def _first_visits_orm(since, until, provider_id):
    zone = timezone.get_current_timezone()
    visits = Appointment.objects.filter(status=Appointment.Status.COMPLETE, start__gte=since, start__lt=until)
    if provider_id:
        visits = visits.filter(provider_id=provider_id)
    first_access = (
        AccessEvent.objects.filter(
            kind=AccessEvent.Kind.ONLINE_ACCESS_PROVIDED, patient_id=OuterRef("patient_id")
        )
        .order_by("created_at")
        .values("created_at")[:1]
    )
    rows = (
        visits.values("patient_id")
        .annotate(first=Min("start"), access=Subquery(first_access))
        .order_by()
        .values_list("patient_id", "first", "access")
    )
    for patient_id, first, access in rows.iterator(chunk_size=5000):
        yield (
            patient_id,
            timezone.localtime(first, zone).date(),
            timezone.localtime(access, zone).date() if access else None,
        )


def electronic_copy_access(
    *, start: datetime.date, end: datetime.date, provider_id: int | None = None
) -> MeasureResult:
    country = PracticeSettings.cached().country
    result = MeasureResult(start=start, end=end, provider_id=provider_id)
    deadlines: dict[datetime.date, datetime.date] = {}
    for patient_id, first_visit, access_on in _first_visits(start, end, provider_id):
        deadline = deadlines.get(first_visit)
        if deadline is None:
            deadline = deadlines[first_visit] = business_deadline(first_visit, country)
        met = access_on is not None and access_on <= deadline
        result.denominator += 1
        result.numerator += met
        result.patients.append(PatientResult(patient_id, first_visit, deadline, access_on, met))
    return result


def attach_names(rows: list[PatientResult]) -> list[PatientResult]:
    """Fill in the names of the rows about to be shown or exported."""
    names = Patient.objects.filter(pk__in=[row.patient_id for row in rows]).values_list(
        "pk", "first_name", "last_name"
    )
    by_id = {pk: " ".join(p for p in (first, last) if p) for pk, first, last in names}
    for row in rows:
        row.name = by_id.get(row.patient_id, "")
    return rows


def with_names(rows: list[PatientResult], chunk: int = 2000) -> Iterator[PatientResult]:
    """All rows with their names, fetching a chunk of names at a time."""
    for start in range(0, len(rows), chunk):
        yield from attach_names(rows[start : start + chunk])
