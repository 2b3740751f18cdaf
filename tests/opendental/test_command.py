"""SPEC O1: `molar opendental sync|status`, the status page, the worker's entry
point, and refusals that change nothing."""

import datetime
import secrets
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command

from molar.access.models import AccessEvent, PortalAccount
from molar.audit.models import AuditEvent
from molar.ehr.measures import electronic_copy_access
from molar.opendental import testdb
from molar.opendental.models import SyncPass, SyncState
from molar.opendental.services import opendental_sync_if_due
from molar.patients.models import Appointment, Patient
from tests.conftest import signed_in
from tests.opendental.conftest import SERVER


def snapshot():
    return [
        list(m.objects.order_by("pk").values())
        for m in (Patient, Appointment, PortalAccount, AccessEvent, AuditEvent)
    ]


def refused(url: str, settings) -> str:
    settings.OPENDENTAL_DATABASE_URL = url
    before = snapshot()
    with pytest.raises(CommandError) as caught:
        call_command("opendental", "sync")
    assert snapshot() == before
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "url",
    [
        "postgres://db/od",
        "mysql://127.0.0.1:3306/od",
        "mysql://root@/od",
        "mysql://root@127.0.0.1:3306/",
        "mysql://root@127.0.0.1:notaport/od",
    ],
)
def test_a_wrong_url_is_one_line_and_changes_nothing(url, settings, practice):
    assert refused(url, settings) == (
        "OPENDENTAL_DATABASE_URL must look like mysql://USER:PASSWORD@HOST:3306/DATABASE."
    )


def test_without_a_url_the_command_says_what_to_set(settings, practice):
    assert refused("", settings).startswith("OPENDENTAL_DATABASE_URL is not set")


def test_an_unreachable_server_is_one_line_and_changes_nothing(settings, practice):
    # Port 9 on this machine: nothing listens there.
    message = refused("mysql://root@127.0.0.1:9/opendental", settings)
    assert message.startswith("Cannot reach the Open Dental database at 127.0.0.1:9")


def test_an_unknown_database_is_one_line(settings, practice):
    message = refused(f"{SERVER.rstrip('/')}/od_test_missing_{secrets.token_hex(4)}", settings)
    assert message.startswith("There is no database od_test_missing_")


@pytest.fixture
def user_without_grants(od):
    """A MariaDB user that may connect to the test database but read nothing."""
    name, password = f"od_nogrant_{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    with testdb.server_connect(SERVER) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (name, password))
        cursor.execute("CREATE USER %s@'localhost' IDENTIFIED BY %s", (name, password))
        # USAGE only: no SELECT on any table.
    parts = urlsplit(od.url)
    yield f"mysql://{name}:{password}@{parts.hostname}:{parts.port}{parts.path}", name, password
    with testdb.server_connect(SERVER) as conn, conn.cursor() as cursor:
        cursor.execute("DROP USER IF EXISTS %s@'%%'", (name,))
        cursor.execute("DROP USER IF EXISTS %s@'localhost'", (name,))


def test_missing_select_rights_are_one_line_and_change_nothing(od, user_without_grants, settings):
    od.patient(FName="Ana")
    url, name, _ = user_without_grants
    message = refused(url, settings)
    assert message.startswith(f"User {name} may not read ") or message.startswith(
        "The Open Dental database at"
    )
    assert "grant SELECT" in message or "refused user" in message


def test_select_on_some_tables_only_names_the_first_missing_one(od, user_without_grants, settings):
    url, name, _ = user_without_grants
    database = urlsplit(od.url).path.lstrip("/")
    with testdb.server_connect(SERVER) as conn, conn.cursor() as cursor:
        for host in ("%", "localhost"):
            cursor.execute(f"GRANT SELECT ON `{database}`.preference TO %s@%s", (name, host))
    message = refused(url, settings)
    assert message == (
        f"User {name} may not read table clinic in 127.0.0.1:3306/{database}: grant "
        "SELECT on the Open Dental tables the README lists."
    )


def test_a_wrong_password_is_one_line(od, user_without_grants, settings):
    url, name, password = user_without_grants
    message = refused(url.replace(password, "wrong-password"), settings)
    assert message.startswith("The Open Dental database at 127.0.0.1:3306/") and name in message


def test_sync_prints_counts_and_status_prints_the_last_pass(od, sync, capsys):
    num = od.patient(FName="Ana")
    od.appointment(num)
    call_command("opendental", "sync")
    out = capsys.readouterr().out
    assert "Open Dental sync (incremental) finished at" in out
    assert "1 added" not in out and "2 added, 0 changed, 0 archived, 0 removed, 0 accounts, 0 errors" in out
    call_command("opendental", "status")
    status = capsys.readouterr().out
    assert "2 added, 0 changed" in status and "Next pass reads changes since" in status


def test_status_before_any_pass(db, settings, capsys):
    settings.OPENDENTAL_DATABASE_URL = ""
    call_command("opendental", "status")
    assert capsys.readouterr().out.splitlines() == [
        "OPENDENTAL_DATABASE_URL is not set: the worker does not sync.",
        "No Open Dental sync pass has run yet.",
    ]


def test_status_page_shows_the_last_pass(od, sync, front_desk):
    od.patient(FName="Ana")
    sync()
    page = signed_in(front_desk).get("/staff/opendental/").content.decode()
    assert '<td id="count-added">1</td>' in page
    assert "Open Dental sync (incremental) finished" in page
    assert urlsplit(od.url).path.lstrip("/") in page and "password" not in page.lower()


def test_status_page_is_for_staff_only(od, sync, clerk_client):
    """A signed-in portal patient gets nothing but the staff sign-in page;
    staff without the permission get 403."""
    from tests.opendental.test_accounts import PASSWORD, new_salt, sha3, sign_in_page

    num = od.patient(FName="Ana")
    od.userweb(num, "Ana4821", sha3(PASSWORD, new_salt()))
    sync()
    patient_client, response = sign_in_page("Ana4821", PASSWORD)
    assert patient_client.get("/portal/appointments/").status_code == 200  # really signed in
    response = patient_client.get("/staff/opendental/")
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    assert "Open Dental" not in response.content.decode()
    assert clerk_client.get("/staff/opendental/").status_code == 403


def test_failed_attempt_is_on_the_status_page(settings, practice, front_desk):
    settings.OPENDENTAL_DATABASE_URL = "mysql://root@127.0.0.1:9/opendental"
    with pytest.raises(CommandError):
        call_command("opendental", "sync")
    page = signed_in(front_desk).get("/staff/opendental/").content.decode()
    assert "failed" in page and "Cannot reach the Open Dental database" in page


def test_worker_entry_runs_a_pass_only_when_due(od, settings):
    od.patient(FName="Ana")
    settings.OPENDENTAL_SYNC_SECONDS = 300
    first = opendental_sync_if_due()
    assert first is not None and first.added == 1
    assert opendental_sync_if_due() is None  # not due yet
    SyncState.objects.update(last_attempt_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    assert opendental_sync_if_due() is not None


def test_worker_entry_does_nothing_without_a_url(db, settings):
    settings.OPENDENTAL_DATABASE_URL = ""
    assert opendental_sync_if_due() is None
    assert not SyncPass.objects.exists()


def test_worker_entry_skips_while_another_process_holds_the_lease(od, settings):
    state = SyncState.load()
    state.lease_owner = "elsewhere:1:1"
    state.lease_until = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)
    state.save()
    assert opendental_sync_if_due() is None
    with pytest.raises(CommandError, match="already running"):
        call_command("opendental", "sync")
    # A lease that ran out (its worker died) is taken over.
    SyncState.objects.update(lease_until=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    assert opendental_sync_if_due() is not None


def test_worker_entry_records_a_failure_without_raising(settings, practice):
    settings.OPENDENTAL_DATABASE_URL = "mysql://root@127.0.0.1:9/opendental"
    assert opendental_sync_if_due() is None
    assert SyncPass.objects.get().outcome == SyncPass.Outcome.FAILED
    assert opendental_sync_if_due() is None  # not retried until due again


def test_access_given_in_open_dental_counts_for_the_measure(od, sync):
    """SPEC E1/O2: a completed visit on Monday 2025-01-06 and an Open Dental
    grant (EventType 1) on Friday 2025-01-10: within 4 business days, met."""
    ana, bo = od.patient(FName="Ana"), od.patient(FName="Bo")
    od.appointment(ana, AptStatus=2, AptDateTime="2025-01-06 09:00:00")
    od.appointment(bo, AptStatus=2, AptDateTime="2025-01-06 10:00:00")
    od.insert("ehrmeasureevent", PatNum=ana, EventType=1, DateTEvent="2025-01-10 16:00:00")
    od.insert("ehrmeasureevent", PatNum=bo, EventType=2, DateTEvent="2025-01-07 16:00:00")  # another measure
    od.insert("ehrmeasureevent", PatNum=bo, EventType=1, DateTEvent="2025-01-20 16:00:00")  # too late
    sync()
    result = electronic_copy_access(start=datetime.date(2025, 1, 1), end=datetime.date(2025, 1, 31))
    by_id = {row.patient_id: row for row in result.patients}
    ana_row = by_id[Patient.objects.get(od_pat_num=ana).pk]
    assert ana_row.met and ana_row.reason == "Online access provided 2025-01-10"
    assert not by_id[Patient.objects.get(od_pat_num=bo).pk].met
    assert (result.numerator, result.denominator) == (1, 2)
    sync()  # events are read once
    assert AccessEvent.objects.filter(source="opendental").count() == 2


def test_dashboard_does_not_offer_provide_access_to_a_patient_online_in_open_dental(od, sync, front_desk):
    ana = od.patient(FName="Ana")
    od.appointment(ana, AptStatus=2, AptDateTime="2025-01-06 09:00:00")
    od.insert("ehrmeasureevent", PatNum=ana, EventType=1, DateTEvent="2025-01-08 16:00:00")
    sync()
    page = signed_in(front_desk).get("/staff/dashboard/?start=2025-01-01&end=2025-01-31").content.decode()
    assert "Online access provided 2025-01-08" in page
    assert "Provide Online Access" not in page.split("<tbody>", 1)[-1]


def test_dashboard_says_online_instead_of_offering_access_to_a_patient_with_an_open_dental_account(
    od, sync, front_desk
):
    ana = od.patient(FName="Ana")
    od.appointment(ana, AptStatus=2, AptDateTime="2025-01-06 09:00:00")
    od.userweb(ana, "Ana4821", "MD5$$" + "A" * 22 + "==")  # online, but no measure event in Open Dental
    sync()
    page = signed_in(front_desk).get("/staff/dashboard/?start=2025-01-01&end=2025-01-31").content.decode()
    rows = page.split("<tbody>", 1)[-1]
    assert "Online now" in rows and "Provide Online Access" not in rows
