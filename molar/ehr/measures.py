"""SPEC E1: the ElectronicCopyAccess measure.

Denominator: unique patients with a completed visit by the chosen provider(s)
in the period. Numerator: those whose earliest `OnlineAccessProvided` event is
on or before the end of the 4th business day after their first visit in the
period (access before the visit counts). One aggregate query; deadlines come
from a per-day cache, so a year of a large practice stays well under a second."""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Min, OuterRef, Subquery
from django.utils import timezone

from molar.access.models import AccessEvent
from molar.patients.models import Appointment
from molar.practice.models import PracticeSettings

from .businessdays import business_deadline

THRESHOLD = 50  # percent; the measure needs MORE than this
DESCRIPTION = ("More than 50% of all unique patients seen by the provider during the reporting "
               "period are provided timely (within 4 business days after the information is "
               "available) online access to their health information.")


@dataclass(frozen=True)
class PatientResult:
    patient_id: int
    name: str
    first_visit: datetime.date
    deadline: datetime.date
    access_on: datetime.date | None
    met: bool

    @property
    def reason(self) -> str:
        if self.met:
            return f"Online access provided {self.access_on:%Y-%m-%d}"
        if self.access_on is None:
            return f"Visit {self.first_visit:%Y-%m-%d}, no online access provided"
        return (f"Visit {self.first_visit:%Y-%m-%d}, online access provided {self.access_on:%Y-%m-%d}, "
                f"after the {self.deadline:%Y-%m-%d} deadline")


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
    zone = timezone.get_current_timezone()
    return (datetime.datetime.combine(start, datetime.time(), zone),
            datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(), zone))


def _rows(start, end, provider_id) -> Iterator[dict]:
    since, until = _local_bounds(start, end)
    visits = Appointment.objects.filter(status=Appointment.Status.COMPLETE, start__gte=since,
                                        start__lt=until)
    if provider_id:
        visits = visits.filter(provider_id=provider_id)
    first_access = (AccessEvent.objects.filter(kind=AccessEvent.Kind.ONLINE_ACCESS_PROVIDED,
                                               patient_id=OuterRef("patient_id"))
                    .order_by("created_at").values("created_at")[:1])
    return (visits.values("patient_id", "patient__first_name", "patient__last_name")
            .annotate(first_visit=Min("start"), access=Subquery(first_access))
            .order_by("patient__last_name", "patient__first_name", "patient_id")
            .iterator(chunk_size=5000))


def electronic_copy_access(*, start: datetime.date, end: datetime.date,
                           provider_id: int | None = None) -> MeasureResult:
    country = PracticeSettings.load().country
    result = MeasureResult(start=start, end=end, provider_id=provider_id)
    for row in _rows(start, end, provider_id):
        first_visit = timezone.localtime(row["first_visit"]).date()
        deadline = business_deadline(first_visit, country)
        access_on = timezone.localtime(row["access"]).date() if row["access"] else None
        met = access_on is not None and access_on <= deadline
        result.denominator += 1
        result.numerator += met
        name = " ".join(p for p in (row["patient__first_name"], row["patient__last_name"]) if p)
        result.patients.append(PatientResult(row["patient_id"], name, first_visit, deadline,
                                             access_on, met))
    return result
