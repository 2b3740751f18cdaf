"""SPEC E1: ElectronicCopyAccess, at its boundaries."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from molar.access.models import AccessEvent
from molar.ehr.businessdays import business_deadline
from molar.ehr.measures import electronic_copy_access
from molar.patients.models import Appointment, Provider

ZONE = ZoneInfo("America/New_York")
D = datetime.date


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), ZONE)


@pytest.fixture
def visit(make_patient, practice):
    def make(day, patient=None, status="complete", provider=None, hour=9):
        patient = patient or make_patient()
        Appointment.objects.create(patient=patient, start=at(day, hour), status=status, provider=provider)
        return patient

    return make


def grant(patient, when: datetime.datetime):
    event = AccessEvent.objects.create(patient=patient, kind="OnlineAccessProvided", source="window")
    AccessEvent.objects.filter(pk=event.pk).update(created_at=when)


JANUARY = (D(2025, 1, 1), D(2025, 1, 31))


def measure(provider=None):
    start, end = JANUARY
    return electronic_copy_access(start=start, end=end, provider_id=provider)


def test_tuesday_plus_four_business_days_is_monday():
    assert business_deadline(D(2025, 1, 7), "US") == D(2025, 1, 13)
    assert business_deadline(D(2025, 1, 6), "US") == D(2025, 1, 10)


def test_friday_before_a_monday_holiday_gets_one_more_day():
    # 2025-01-20 is Martin Luther King Jr. Day in the US, not in Canada.
    assert business_deadline(D(2025, 1, 17), "US") == D(2025, 1, 24)
    assert business_deadline(D(2025, 1, 17), "CA") == D(2025, 1, 23)


def test_monday_visit_with_access_on_friday_counts(visit):
    grant(visit(D(2025, 1, 6)), at(D(2025, 1, 10), 23))
    result = measure()
    assert (result.numerator, result.denominator) == (1, 1)
    assert result.patients[0].reason == "Online access provided 2025-01-10"


def test_monday_visit_with_access_on_next_monday_does_not_count(visit):
    grant(visit(D(2025, 1, 6)), at(D(2025, 1, 13), 0))
    result = measure()
    assert (result.numerator, result.denominator) == (0, 1)
    assert "after the 2025-01-10 deadline" in result.patients[0].reason


def test_access_before_the_visit_counts(visit):
    patient = visit(D(2025, 1, 6))
    grant(patient, at(D(2024, 6, 1)))
    assert measure().numerator == 1


def test_earliest_access_event_is_the_one_that_counts(visit):
    patient = visit(D(2025, 1, 6))
    grant(patient, at(D(2025, 1, 20)))
    grant(patient, at(D(2025, 1, 8)))
    assert measure().patients[0].access_on == D(2025, 1, 8)


def test_patient_with_two_visits_counts_once_from_the_first_visit(visit):
    patient = visit(D(2025, 1, 6))
    visit(D(2025, 1, 20), patient=patient)
    grant(patient, at(D(2025, 1, 21)))  # in time for the second visit only
    result = measure()
    assert result.denominator == 1 and result.numerator == 0
    assert result.patients[0].first_visit == D(2025, 1, 6)


def test_visits_not_completed_do_not_count(visit):
    visit(D(2025, 1, 6), status="scheduled")
    visit(D(2025, 1, 6), status="broken")
    assert measure().denominator == 0


def test_visits_outside_the_period_do_not_count(visit):
    visit(D(2024, 12, 31), hour=23)  # 23:00 local on the day before
    visit(D(2025, 2, 1), hour=0)
    assert measure().denominator == 0


def test_provider_filter(visit, make_patient):
    ada = Provider.objects.create(name="Dr. Ada", abbreviation="ADA")
    bo = Provider.objects.create(name="Dr. Bo", abbreviation="BO")
    visit(D(2025, 1, 6), provider=ada)
    visit(D(2025, 1, 6), provider=bo)
    assert measure(provider=ada.pk).denominator == 1
    assert measure().denominator == 2


def test_threshold_needs_more_than_half(visit):
    first, second = visit(D(2025, 1, 6)), visit(D(2025, 1, 6))
    grant(first, at(D(2025, 1, 6)))
    result = measure()
    assert result.percentage == 50.0 and not result.met
    grant(second, at(D(2025, 1, 7)))
    assert measure().met


def test_no_patients_seen_is_not_met(practice):
    result = measure()
    assert result.denominator == 0 and result.percentage is None and not result.met
