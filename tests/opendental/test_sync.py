"""SPEC O2/O3: what a pass brings from Open Dental, and how passes follow changes."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from molar.access.models import PortalAccount
from molar.audit.models import AuditEvent
from molar.opendental import passes
from molar.opendental.models import SyncPass, SyncState
from molar.opendental.testdb import TABLES
from molar.patients.models import Appointment, GuardianLink, Patient, Provider
from molar.practice.models import Clinic, PracticeSettings

LOCAL = ZoneInfo("America/New_York")
OLD = "2025-01-02 03:04:05"  # a DateTStamp long before any pass (UTC)


@pytest.fixture
def family(od):
    """A practice with one clinic, two providers, a family of three and a guardian."""
    od.pref("EasyNoClinics", "0")
    clinic = od.insert(
        "clinic",
        Description="Harbor Downtown",
        Abbr="DT",
        Address="1 Main St",
        City="Portland",
        State="ME",
        Zip="04101",
        Phone="2075550199",
    )
    doc = od.provider(Abbr="DOC1", FName="Dana", LName="Reyes", Suffix="DDS")
    hyg = od.provider(Abbr="HYG1", FName="Hal", LName="Young", IsSecondary=1)
    mom = od.patient(
        FName="Ana",
        LName="Ortega",
        MiddleI="L",
        Preferred="Annie",
        Gender=1,
        Birthdate="1980-05-06",
        Address="4 Pier Rd",
        Address2="Apt 2",
        City="Bath",
        State="ME",
        Zip="04530",
        HmPhone="2075550110",
        WkPhone="2075550112",
        WirelessPhone="2075550111",
        Email="ana@example.com",
        PriProv=doc,
        ClinicNum=clinic,
        Language="spa",
    )
    kid = od.patient(
        FName="Leo",
        LName="Ortega",
        Gender=0,
        Birthdate="2015-09-01",
        Guarantor=mom,
        ResponsParty=mom,
        PriProv=doc,
        ClinicNum=clinic,
        Language="eng",
    )
    grandpa = od.patient(
        FName="Raul",
        LName="Ortega",
        Gender=0,
        Birthdate="0001-01-01",
        Language="Klingon",
        Email=None,
        HmPhone=None,
    )
    od.insert("guardian", PatNumChild=kid, PatNumGuardian=grandpa, Relationship=4, IsGuardian=1)
    od.insert("guardian", PatNumChild=kid, PatNumGuardian=mom, Relationship=1, IsGuardian=0)
    visits = {
        "scheduled": od.appointment(
            kid,
            AptStatus=1,
            Pattern="//XXXX//",
            ProvNum=doc,
            AptDateTime="2026-12-01 09:30:00",
            ClinicNum=clinic,
        ),
        "complete": od.appointment(
            kid,
            AptStatus=2,
            Pattern="XXX",
            ProvNum=doc,
            ProvHyg=hyg,
            IsHygiene=1,
            AptDateTime="2026-07-01 14:00:00",
            ClinicNum=clinic,
        ),
        "broken": od.appointment(
            mom, AptStatus=5, Pattern="XX", ProvNum=doc, AptDateTime="2026-03-08 02:30:00"
        ),
        "unscheduled": od.appointment(mom, AptStatus=3, AptDateTime="0001-01-01 00:00:00"),
        "planned": od.appointment(mom, AptStatus=6),
        "note": od.appointment(mom, AptStatus=7),
    }
    return {
        "clinic": clinic,
        "doc": doc,
        "hyg": hyg,
        "mom": mom,
        "kid": kid,
        "grandpa": grandpa,
        "visits": visits,
    }


def patient(num: int) -> Patient:
    return Patient.objects.get(od_pat_num=num)


def test_first_pass_brings_patients_with_every_field(family, sync):
    sync()
    mom = patient(family["mom"])
    assert (mom.first_name, mom.middle_name, mom.last_name, mom.preferred_name) == (
        "Ana",
        "L",
        "Ortega",
        "Annie",
    )
    assert mom.birth_date == datetime.date(1980, 5, 6)
    assert (mom.address1, mom.address2, mom.city, mom.state, mom.zip) == (
        "4 Pier Rd",
        "Apt 2",
        "Bath",
        "ME",
        "04530",
    )
    assert (mom.home_phone, mom.wireless_phone, mom.work_phone) == ("2075550110", "2075550111", "2075550112")
    assert mom.email == "ana@example.com"
    assert (mom.status, mom.gender, mom.language) == ("patient", "female", "es")
    assert mom.primary_provider.abbreviation == "DOC1"
    assert mom.primary_provider.name == "Dana Reyes, DDS"
    assert mom.clinic.name == "Harbor Downtown"
    assert mom.guarantor is None  # her own guarantor
    kid = patient(family["kid"])
    assert kid.guarantor == mom and kid.responsible_party == mom
    assert kid.language == "en"
    grandpa = patient(family["grandpa"])
    # 0001-01-01 is no date; NULL text is blank; a custom language is unknown.
    assert grandpa.birth_date is None and grandpa.email == "" and grandpa.language == ""


def test_guardians_come_with_their_flag(family, sync):
    sync()
    kid = patient(family["kid"])
    links = {link.guardian.first_name: link for link in kid.guardian_links.all()}
    assert links["Raul"].relationship == "Grandfather" and links["Raul"].is_guardian
    assert links["Ana"].relationship == "Mother" and not links["Ana"].is_guardian


def test_appointments_start_in_local_time_with_five_minutes_per_pattern_character(family, sync):
    sync()
    visits = {a.od_apt_num: a for a in Appointment.objects.select_related("provider", "clinic")}
    scheduled = visits[family["visits"]["scheduled"]]
    assert scheduled.start == datetime.datetime(2026, 12, 1, 9, 30, tzinfo=LOCAL)
    assert scheduled.duration_minutes == 40 and scheduled.status == "scheduled"
    assert scheduled.provider.abbreviation == "DOC1" and scheduled.clinic.name == "Harbor Downtown"
    complete = visits[family["visits"]["complete"]]
    assert complete.status == "complete" and complete.duration_minutes == 15
    assert complete.start == datetime.datetime(2026, 7, 1, 14, 0, tzinfo=LOCAL)  # summer time
    assert complete.provider.abbreviation == "HYG1"  # a hygiene visit is the hygienist's
    broken = visits[family["visits"]["broken"]]
    assert broken.status == "broken" and broken.duration_minutes == 10
    # Unscheduled, planned and note rows are not visits.
    assert len(visits) == 3


def test_providers_clinics_and_practice(family, od, sync):
    od.pref("PracticeTitle", "Harbor Dental Group")
    od.pref("PracticePhone", "2075550100")
    od.pref("PracticeAddress", "100 Commercial St")
    od.pref("PracticeCity", "Portland")
    od.pref("PracticeST", "ME")
    od.pref("PracticeZip", "04101")
    od.pref("PatientPortalURL", "https://od-portal.example/harbor")
    PracticeSettings.objects.filter(pk=1).update(patient_facing_url="")
    sync()
    assert set(Provider.objects.values_list("abbreviation", flat=True)) == {"DOC1", "HYG1"}
    assert Clinic.objects.get().phone == "2075550199"
    practice = PracticeSettings.load()
    assert practice.practice_name == "Harbor Dental Group"
    assert practice.practice_phone == "2075550100"
    assert practice.practice_address == "100 Commercial St, Portland, ME 04101"
    assert practice.patient_facing_url == "https://od-portal.example/harbor"


def test_patient_facing_url_is_taken_only_when_molar_has_none(od, sync, practice):
    od.pref("PatientPortalURL", "https://od-portal.example/harbor")
    sync()
    assert PracticeSettings.load().patient_facing_url == practice.patient_facing_url


def test_a_second_pass_with_no_changes_changes_nothing_and_says_so(family, sync, capsys):
    from django.core.management import call_command

    call_command("opendental", "sync")
    before = [list(m.objects.order_by("pk").values()) for m in (Patient, Appointment, GuardianLink)]
    call_command("opendental", "sync")
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "No changes."
    assert "0 added, 0 changed, 0 archived, 0 removed, 0 accounts, 0 errors" in out[-2]
    after = [list(m.objects.order_by("pk").values()) for m in (Patient, Appointment, GuardianLink)]
    assert after == before


def _age_rows(od) -> None:
    """Make every row look untouched for a long time, as in a practice's database."""
    for table in ("patient", "appointment", "provider"):
        od.execute(f"UPDATE {table} SET DateTStamp = %s", (OLD,))  # noqa: S608


def test_incremental_pass_reads_only_rows_stamped_since_the_last_pass(family, od, sync):
    sync()
    _age_rows(od)
    # A change made behind the stamp's back (as if it had been synced before)
    # is not read by an incremental pass, but a pass with --full finds it.
    od.execute(
        "UPDATE patient SET FName = 'Anita', DateTStamp = DateTStamp WHERE PatNum = %s", (family["mom"],)
    )
    od.update("patient", family["kid"], FName="Leonardo")  # stamped now
    record = sync()
    assert (record.changed, record.added) == (1, 0)
    assert patient(family["kid"]).first_name == "Leonardo"
    assert patient(family["mom"]).first_name == "Ana"
    sync(full=True)
    assert patient(family["mom"]).first_name == "Anita"


def test_cursor_is_the_servers_utc_time_when_the_pass_started(family, od, sync):
    server_now = od.one("SELECT UTC_TIMESTAMP()")[0].replace(tzinfo=datetime.UTC)
    sync()
    since = SyncState.objects.get().since
    assert abs((since - server_now).total_seconds()) < 5


def test_a_row_committed_late_inside_the_overlap_window_is_still_read(family, od, sync):
    sync()
    _age_rows(od)
    since = SyncState.objects.get().since
    late = (since - datetime.timedelta(minutes=4)).replace(tzinfo=None)
    # A transaction that stamped the row before the pass but committed after it.
    od.execute(
        "UPDATE patient SET FName = 'Late', DateTStamp = %s WHERE PatNum = %s", (late, family["grandpa"])
    )
    sync()
    assert patient(family["grandpa"]).first_name == "Late"


def test_a_change_made_during_a_pass_is_read_by_the_next_pass(family, od, sync, monkeypatch):
    sync()
    _age_rows(od)
    od.update("patient", family["kid"], FName="Leon")
    original = passes.Pass._family

    def change_after_patients_were_read(self, after):
        od.update("patient", family["kid"], FName="Leonel")  # mid-pass
        od.update("patient", family["mom"], FName="Anna")
        return original(self, after)

    monkeypatch.setattr(passes.Pass, "_family", change_after_patients_were_read)
    sync()
    assert patient(family["kid"]).first_name == "Leon"  # what was read this pass
    monkeypatch.setattr(passes.Pass, "_family", original)
    sync()
    assert patient(family["kid"]).first_name == "Leonel"
    assert patient(family["mom"]).first_name == "Anna"


def test_session_time_zone_is_utc_whatever_the_writer_used(family, od, sync):
    """DateTStamp is a `timestamp`: a writer in another session zone stores the
    same instant, and the reader compares it in UTC."""
    sync()
    _age_rows(od)
    od.execute("SET time_zone = '+09:00'")
    od.update("patient", family["grandpa"], FName="Tokyo")
    od.execute("SET time_zone = '+00:00'")
    sync()
    assert patient(family["grandpa"]).first_name == "Tokyo"


def test_a_deleted_appointment_is_removed(family, od, sync):
    sync()
    _age_rows(od)
    gone = family["visits"]["broken"]
    od.delete_appointment(gone)
    record = sync()
    assert record.removed == 1
    assert not Appointment.objects.filter(od_apt_num=gone).exists()
    assert Appointment.objects.count() == 2


def test_an_appointment_that_stops_being_a_visit_is_removed(family, od, sync):
    sync()
    od.update("appointment", family["visits"]["scheduled"], AptStatus=3)  # to the unscheduled list
    assert sync().removed == 1
    assert not Appointment.objects.filter(od_apt_num=family["visits"]["scheduled"]).exists()


def test_a_deleted_patient_is_archived_and_loses_portal_access(family, od, sync):
    od.userweb(family["grandpa"], "Raul123", "SHA3_512$$" + "A" * 86 + "==")
    sync()
    assert PortalAccount.objects.get(patient__od_pat_num=family["grandpa"]).has_access
    _age_rows(od)
    od.update("patient", family["grandpa"], PatStatus=4)
    record = sync()
    raul = patient(family["grandpa"])
    assert raul.status == Patient.Status.ARCHIVED and record.archived == 1
    account = PortalAccount.objects.get(patient=raul)
    assert not account.has_access and account.username == "Raul123"
    assert AuditEvent.objects.filter(
        action="access_removed", patient_id=raul.pk, actor_label="opendental"
    ).exists()
    # The next pass leaves it so, though userweb still holds the hash.
    sync()
    assert not PortalAccount.objects.get(patient=raul).has_access


def test_full_pass_reconciles_rows_gone_without_history(family, od, sync):
    sync()
    # Gone with no histappointment row (a restored backup, a manual cleanup).
    od.execute("DELETE FROM appointment WHERE AptNum = %s", (family["visits"]["complete"],))
    od.execute("DELETE FROM patient WHERE PatNum = %s", (family["grandpa"],))
    assert sync().removed == 0
    record = sync(full=True)
    assert (record.removed, record.archived) == (1, 1)
    assert patient(family["grandpa"]).status == Patient.Status.ARCHIVED
    assert SyncState.objects.get().last_full_at is not None


def test_guardian_rows_deleted_in_open_dental_are_removed_and_molar_links_stay(
    family, od, sync, make_patient
):
    sync()
    kid = patient(family["kid"])
    aunt = make_patient(first_name="Molar-only aunt")
    GuardianLink.objects.create(patient=kid, guardian=aunt, relationship="Aunt")
    od.execute("DELETE FROM guardian WHERE PatNumGuardian = %s", (family["grandpa"],))
    record = sync()
    assert record.removed == 1
    assert set(kid.guardian_links.values_list("guardian__first_name", flat=True)) == {
        "Ana",
        "Molar-only aunt",
    }


def test_a_patient_imported_earlier_by_patnum_is_taken_over_not_duplicated(family, sync, make_patient):
    earlier = make_patient(first_name="Leo (CSV)", external_id=str(family["kid"]))
    sync()
    earlier.refresh_from_db()
    assert earlier.od_pat_num == family["kid"] and earlier.first_name == "Leo"
    assert Patient.objects.filter(first_name__startswith="Leo").count() == 1


def test_molar_owned_data_is_untouched(family, sync, make_patient):
    own = make_patient(first_name="Walk-in")
    PracticeSettings.objects.filter(pk=1).update(practice_email="desk@harbor.example")
    sync()
    own.refresh_from_db()
    assert own.od_pat_num is None and own.first_name == "Walk-in"
    assert PracticeSettings.load().practice_email == "desk@harbor.example"


def test_one_audit_event_per_pass_with_counts(family, sync):
    sync()
    events = AuditEvent.objects.filter(action="opendental_synced")
    assert events.count() == 1
    detail = events.get().detail
    assert detail["added"] == SyncPass.objects.get().added > 0
    assert not AuditEvent.objects.filter(action__in=("patient_created", "patient_updated")).exists()


def test_an_interrupted_pass_resumes_where_it_stopped(family, od, sync, monkeypatch):
    for n in range(30):
        od.appointment(family["mom"], AptDateTime=f"2026-10-{1 + n % 28:02d} 08:00:00")
    monkeypatch.setattr(passes, "PAGE", 10)
    calls = {"n": 0}
    original = passes.apply.appointments_apply

    def fail_on_third_page(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(passes.apply, "appointments_apply", fail_on_third_page)
    with pytest.raises(KeyboardInterrupt):
        sync()
    state = SyncState.objects.get()
    assert state.checkpoint["phase"] == "appointments" and state.lease_owner == ""
    assert Appointment.objects.count() == 17  # two pages of 10 rows, 3 of them not visits
    assert SyncPass.objects.get().outcome == SyncPass.Outcome.FAILED
    record = sync()
    assert record.resumed and record.outcome == SyncPass.Outcome.OK
    assert Appointment.objects.count() == 33
    assert SyncState.objects.get().checkpoint == {}


def test_tables_the_server_reports_unchanged_are_not_read_again(family, od, sync, monkeypatch):
    """A pass with no changes reads almost nothing: the server's UPDATE_TIME
    says which tables have not changed since before the last pass started."""
    from molar.opendental.reader import Source

    sync()
    since = SyncState.objects.get().since
    long_ago = {t: since - datetime.timedelta(seconds=1) for t in TABLES}
    monkeypatch.setattr(Source, "update_times", lambda self: dict(long_ago))
    od.update("patient", family["kid"], FName="Leonardo")  # the server would have said so
    record = sync()
    assert record.total_changes == 0 and record.full is False
    assert SyncPass.objects.order_by("-id").first().detail.get("patients", {}) == {}
    long_ago["patient"] = None  # unknown (e.g. after a restart): read
    sync()
    assert patient(family["kid"]).first_name == "Leonardo"
    od.update("patient", family["kid"], FName="Leon")
    long_ago["patient"] = datetime.datetime.now(datetime.UTC)  # changed: read
    sync()
    assert patient(family["kid"]).first_name == "Leon"


def test_is_guardian_gives_portal_access_to_the_child_and_other_relations_do_not(family, od, sync):
    """SPEC L8 with synced rows: Raul (guardian row, IsGuardian 1) and Ana
    (guarantor) see Leo; a relative with IsGuardian 0 does not."""
    from molar.access.family import represented_patients

    uncle = od.patient(FName="Tio")
    od.insert("guardian", PatNumChild=family["kid"], PatNumGuardian=uncle, Relationship=12, IsGuardian=0)
    for num, name in ((family["grandpa"], "Raul1"), (family["mom"], "Ana1"), (uncle, "Tio1")):
        od.userweb(num, name, "MD5$$" + "A" * 22 + "==")
    sync()
    practice = PracticeSettings.load()

    def sees(num):
        account = PortalAccount.objects.get(patient__od_pat_num=num)
        return {p.first_name for p in represented_patients(account, practice)}

    assert sees(family["grandpa"]) == {"Raul", "Leo"}
    assert sees(family["mom"]) == {"Ana", "Leo"}
    assert sees(uncle) == {"Tio"}
