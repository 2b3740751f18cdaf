"""SPEC L8: authorized representatives and the family switcher."""

import datetime

import pytest

from molar.audit.models import AuditEvent
from molar.patients.models import Appointment, GuardianLink, Patient


@pytest.fixture
def parent(complete_patient):
    return complete_patient


@pytest.fixture
def kids(make_patient, parent):
    """A child by guardian link, one by guarantor, one by responsible party,
    and a linked child whose link lacks "is guardian"."""
    guarded = make_patient(first_name="Guarded")
    GuardianLink.objects.create(patient=guarded, guardian=parent, relationship="Mother", is_guardian=True)
    guaranteed = make_patient(first_name="Guaranteed", guarantor=parent)
    responsible = make_patient(first_name="Responsible", responsible_party=parent)
    linked = make_patient(first_name="Linked")
    GuardianLink.objects.create(patient=linked, guardian=parent, relationship="Aunt", is_guardian=False)
    return guarded, guaranteed, responsible, linked


def family_names(client) -> list[str]:
    page = client.get("/portal/appointments/").content.decode()
    return [
        name for name in ("Guarded", "Guaranteed", "Responsible", "Linked", "Hidden") if f">{name} " in page
    ]


def test_representative_sees_exactly_the_people_spec_lists(patient_client, kids):
    assert family_names(patient_client) == ["Guarded", "Guaranteed", "Responsible"]


def test_guarantor_access_follows_the_practice_setting(patient_client, kids, practice):
    practice.allow_guarantor_access = False
    practice.save()
    assert family_names(patient_client) == ["Guarded", "Responsible"]


@pytest.mark.parametrize("status", ["archived", "deceased", "prospective"])
def test_archived_deceased_and_prospective_never_appear(patient_client, kids, status):
    guarded = kids[0]
    guarded.status = status
    guarded.first_name = "Hidden"
    guarded.save()
    assert "Hidden" not in family_names(patient_client)


def test_switching_shows_the_childs_data_and_audits_both_ids(patient_client, kids, parent):
    guarded = kids[0]
    Appointment.objects.create(patient=guarded, start=datetime.datetime(2031, 5, 6, 15, tzinfo=datetime.UTC))
    patient_client.submit("/portal/switch/", {"patient": guarded.pk, "next": "/portal/appointments/"})
    page = patient_client.get("/portal/appointments/").content.decode()
    assert "May 6, 2031" in page
    event = AuditEvent.objects.filter(action="phi_view").latest("id")
    assert event.patient_id == guarded.pk and event.actor_type == "representative"
    assert event.actor_id == parent.pk and event.detail["representative_id"] == parent.pk


def test_switching_to_someone_outside_the_family_is_404_and_audited(patient_client, kids, make_patient):
    stranger = make_patient(first_name="Stranger")
    linked = kids[3]
    for outsider in (stranger, linked):
        response = patient_client.submit("/portal/switch/", {"patient": outsider.pk})
        assert response.status_code == 404
    assert AuditEvent.objects.filter(action="access_denied", outcome="denied").count() == 2
    assert "Stranger" not in patient_client.get("/portal/appointments/").content.decode()


def test_a_subject_who_leaves_the_family_falls_back_to_self(patient_client, kids, parent):
    guarded = kids[0]
    patient_client.submit("/portal/switch/", {"patient": guarded.pk})
    GuardianLink.objects.filter(patient=guarded).update(is_guardian=False)
    patient_client.get("/portal/appointments/")
    assert AuditEvent.objects.filter(action="phi_view").latest("id").patient_id == parent.pk


def test_tabs_turned_off_are_hidden_and_404(patient_client, practice):
    practice.show_appointments = False
    practice.save()
    assert patient_client.get("/portal/appointments/").status_code == 404
    assert patient_client.get("/portal/api/appointments").status_code == 404
    assert ">Appointments<" not in patient_client.get("/portal/profile/").content.decode()


def test_access_history_lists_grants_and_sign_ins(patient_client):
    page = patient_client.get("/portal/history/").content.decode()
    assert "Signed in" in page and "Online access provided" in page
    assert "Password changed" in page


def test_family_lookup_is_one_query_per_part_without_an_or_across_a_join(db, make_patient):
    """SPEC Q1: the lookup runs on every portal request; an OR across the
    guardian join cannot use an index (PostgreSQL scanned the whole patient
    table at 100,000 patients). It is a UNION of indexed parts instead, and
    hidden patients are left out."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from molar.access.family import family_members

    parent = make_patient(first_name="Ana")
    child = make_patient(first_name="Leo", guarantor=parent)
    ward = make_patient(first_name="Ida")
    make_patient(first_name="Old", guarantor=parent, status=Patient.Status.ARCHIVED)
    GuardianLink.objects.create(patient=ward, guardian=parent, relationship="Mother", is_guardian=True)
    with CaptureQueriesContext(connection) as queries:
        members = family_members(parent.pk, guarantor_access=True)
    assert members == [ward, child]  # sorted by name
    assert [m.first_name for m in members] == ["Ida", "Leo"]
    assert len(queries) == 1
    sql = queries[0]["sql"].upper()
    assert "UNION" in sql and " OR " not in sql
    assert family_members(parent.pk, guarantor_access=False) == [ward]


def test_the_family_comes_with_the_account_in_one_query(db, make_patient, practice):
    """SPEC Q1: the portal loads the account, its patient and the family in
    one query; a patient who represents nobody costs nothing more."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from molar.access.family import represented_patients
    from molar.access.services import access_provide
    from molar.audit.services import Actor
    from molar.portal.session import _load_account
    from molar.practice.models import PracticeSettings

    alone, parent = make_patient(first_name="Alone"), make_patient(first_name="Parent")
    child = make_patient(first_name="Child", guarantor=parent)
    accounts = {}
    for patient in (alone, parent):
        access_provide(patient=patient, actor=Actor.system("t"))
        accounts[patient.pk] = patient.portal_account.pk
    load = lambda p: _load_account(accounts[p.pk])  # noqa: E731
    PracticeSettings.cached()  # (read once per process; not what is counted)
    for patient, family in ((alone, [alone]), (parent, [parent, child])):
        with CaptureQueriesContext(connection) as queries:
            account = load(patient)
            assert represented_patients(account, practice) == family
        assert len(queries) == 1
    assert account.patient == parent and account.patient.last_name == parent.last_name
    practice.allow_guarantor_access = False  # a setting other than the one loaded under: asked again
    assert represented_patients(load(parent), practice) == [parent]
