import datetime

import pytest
from django.utils import timezone

from molar.audit.services import Actor
from molar.invites.services import invite_rule_create
from molar.patients.models import Appointment

NOW = datetime.datetime(2026, 3, 2, 14, 0, tzinfo=datetime.UTC)


@pytest.fixture
def before_rule(practice, admin):
    return invite_rule_create(actor=Actor.staff(admin), timing="before", enabled=True)


@pytest.fixture
def after_rule(practice, admin):
    return invite_rule_create(actor=Actor.staff(admin), timing="after", enabled=True)


@pytest.fixture
def appointment_in(complete_patient):
    def make(delta: datetime.timedelta, patient=None, status="scheduled") -> Appointment:
        return Appointment.objects.create(
            patient=patient or complete_patient, start=NOW + delta, status=status
        )

    return make


def now() -> datetime.datetime:
    return timezone.now()
