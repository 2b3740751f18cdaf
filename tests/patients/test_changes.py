"""SPEC Q1: the database records every change to what a patient's portal
pages show (molar/patients/changes.py), on SQLite and on PostgreSQL, however
the change is written, without a lock shared by the writers."""

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from molar.access.services import access_provide
from molar.audit.services import Actor
from molar.messaging.models import Message, Thread
from molar.messaging.services import message_thread_start
from molar.patients.changes import PATIENT_OF, patient_changes_prune, version_sql
from molar.patients.models import Appointment, Patient, PatientChange
from molar.records.models import (
    Allergy,
    Document,
    LedgerEntry,
    Medication,
    PlannedProcedure,
    Problem,
    Statement,
    TreatmentPlan,
)
from tests.records.conftest import document, health, ledger, plan, statement


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path, practice):
    settings.MEDIA_ROOT = tmp_path / "media"


def changes(patient) -> int:
    return PatientChange.objects.filter(patient_id=patient.pk).count()


def version(patient) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {version_sql('p')} FROM patients_patient p WHERE p.id = %s", [patient.pk])  # noqa: S608
        return cursor.fetchone()[0]


def _records(patient):
    """Rows of every watched table for `patient`, by model (children first,
    so deleting one row at a time never finds its row gone by a cascade)."""
    ledger(patient)
    statement(patient)
    plan(patient)
    health(patient)
    document(patient)
    access_provide(patient=patient, actor=Actor.system("test"))
    message_thread_start(patient=patient, actor_account=patient.portal_account, subject="Hi", body="Hello")
    Appointment.objects.create(patient=patient, start=timezone.now())
    return {
        Patient: Patient.objects.filter(pk=patient.pk),
        Appointment: Appointment.objects.filter(patient=patient),
        LedgerEntry: LedgerEntry.objects.filter(patient=patient),
        Statement: Statement.objects.filter(patient=patient),
        PlannedProcedure: PlannedProcedure.objects.filter(plan__patient=patient),  # before its plan
        TreatmentPlan: TreatmentPlan.objects.filter(patient=patient),
        Problem: Problem.objects.filter(patient=patient),
        Medication: Medication.objects.filter(patient=patient),
        Allergy: Allergy.objects.filter(patient=patient),
        Document: Document.objects.filter(patient=patient),
        Message: Message.objects.filter(thread__patient=patient),  # before its thread
        Thread: Thread.objects.filter(patient=patient),
    }


def test_every_watched_table_is_one_of_the_models_here():
    models = [Patient, Appointment, LedgerEntry, Statement, TreatmentPlan, PlannedProcedure]
    models += [Problem, Medication, Allergy, Document, Thread, Message]
    assert sorted(PATIENT_OF) == sorted(model._meta.db_table for model in models)


def test_creating_a_record_of_any_kind_is_a_change(make_patient):
    patient = make_patient()
    before = changes(patient)
    rows = _records(patient)
    # Each row written above (and each update the services made) counted.
    assert changes(patient) - before >= sum(len(queryset) for queryset in rows.values())


@pytest.mark.parametrize("verb", ["update", "delete"])
def test_updating_or_deleting_a_row_of_any_table_is_a_change_of_its_patient(make_patient, verb):
    patient, bystander = make_patient(), make_patient()
    rows = _records(patient)
    rows.pop(Patient)  # deleting the patient is the cascade test below
    for model, queryset in rows.items():
        before, pk = changes(patient), queryset.first().pk
        untouched = changes(bystander)
        row = model.objects.filter(pk=pk)
        if verb == "update":
            assert row.update(id=F("id")) == 1  # an UPDATE that changes nothing still counts
        else:
            row.delete()
        assert changes(patient) > before, model.__name__
        assert changes(bystander) == untouched, model.__name__


def test_a_row_moved_to_another_patient_changes_both(make_patient):
    first, second = make_patient(), make_patient()
    visit = Appointment.objects.create(patient=first, start=timezone.now())
    before = (changes(first), changes(second))
    Appointment.objects.filter(pk=visit.pk).update(patient=second)
    assert (changes(first), changes(second)) == (before[0] + 1, before[1] + 1)


def test_the_version_is_the_newest_change_and_moves_with_each(make_patient):
    patient = make_patient()
    seen = version(patient)
    assert seen == PatientChange.objects.filter(patient_id=patient.pk).latest("id").pk
    Appointment.objects.create(patient=patient, start=timezone.now())
    assert version(patient) > seen


def test_rows_older_than_a_day_are_pruned(make_patient):
    patient = make_patient()
    Patient.objects.filter(pk=patient.pk).update(preferred_name="Old")
    PatientChange.objects.filter(patient_id=patient.pk).update(
        changed_at=timezone.now() - datetime.timedelta(days=1, minutes=1)
    )
    Patient.objects.filter(pk=patient.pk).update(preferred_name="New")
    assert changes(patient) > 1
    assert patient_changes_prune() >= 1
    recent = PatientChange.objects.get(patient_id=patient.pk)  # only the change of a minute ago is left
    assert recent.changed_at > timezone.now() - datetime.timedelta(minutes=5)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_writers_of_one_patient_never_wait_on_each_other(make_patient):
    """An open transaction that changed the patient does not hold up another
    writer of the same patient (no counter row to lock: a wait would end in
    the lock timeout's error), and its change is seen once it commits."""
    patient = make_patient()
    changed, commit = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                Appointment.objects.create(patient=patient, start=timezone.now())
                changed.set()
                commit.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert changed.wait(timeout=30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            LedgerEntry.objects.create(
                patient=patient, date=datetime.date(2026, 1, 5), description="Exam", kind="charge", amount=10
            )
        during = changes(patient)
    finally:
        commit.set()
        thread.join(timeout=30)
    assert changes(patient) == during + 1  # the slow writer's change, once it committed
