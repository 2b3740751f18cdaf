"""Issue 9: the load that deadlocked the practice, on PostgreSQL, with real
threads for 20 seconds: appointments added to one patient while the patient
is edited and their access provided, regenerated and removed while they ask
for reset codes themselves, a bulk grant running, a patient signing in, and
the worker sending invites and the email outbox and sealing the audit trail.
Zero deadlocks, zero server errors, every action's event present, and the
sealed chain verifies (SPEC T3, Q3, Q4)."""

import datetime
import io
import threading
import time
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.utils import timezone

from molar.access.models import PortalAccount
from molar.access.services import access_provide
from molar.audit.models import AuditEvent
from molar.audit.sealing import audit_seal
from molar.audit.services import Actor
from molar.invites.bulk import Criteria, bulk_grant
from molar.invites.delivery import invites_scan, invites_send_due
from molar.invites.models import Invite
from molar.invites.services import invite_rule_create
from molar.outbox.models import OutboxEmail
from molar.outbox.services import outbox_send_due
from molar.patients.models import Appointment
from tests.conftest import CsrfClient

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SECONDS = 20
BULK_DAYS = 30
BULK_PER_DAY = 15


def deadlocks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


class Load:
    """Threads that each repeat one kind of request until time is up,
    counting answers by (what, status) and collecting any exception."""

    def __init__(self, seconds: float):
        self.until = time.monotonic() + seconds
        self.answers: Counter = Counter()
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        self.granted_in_bulk = 0

    def running(self) -> bool:
        return time.monotonic() < self.until

    def note(self, what: str, status: int) -> None:
        with self.lock:
            self.answers[(what, status)] += 1

    def start(self, name: str, body) -> None:
        def run():
            try:
                body()
            except Exception as exc:  # noqa: BLE001 - reported by the test
                with self.lock:
                    self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            finally:
                connection.close()

        thread = threading.Thread(target=run, name=name)
        self.threads.append(thread)
        thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=SECONDS + 120)
            assert not thread.is_alive(), f"{thread.name} did not finish"


@pytest.fixture
def scene(practice, admin, front_desk, make_patient, desk_api, smtp):
    target = make_patient(first_name="Target")
    signer = make_patient(first_name="Signer")
    creds = access_provide(patient=signer, actor=Actor.system("setup"))
    client = CsrfClient()
    client.submit("/portal/", {"username": creds.username, "password": creds.password})
    client.submit("/portal/password/new/", {"new": "Harbor9Tide", "confirm": "Harbor9Tide"})
    invite_rule_create(actor=Actor.staff(admin), timing="before", days=7, enabled=True)
    soon = timezone.now() + datetime.timedelta(days=2)
    for n in range(40):
        Appointment.objects.create(patient=make_patient(first_name=f"Invitee{n}"), start=soon)
    first_day = datetime.date(2026, 1, 5)
    for day in range(BULK_DAYS):
        start = datetime.datetime.combine(
            first_day + datetime.timedelta(days=day), datetime.time(15), datetime.UTC
        )
        for n in range(BULK_PER_DAY):
            Appointment.objects.create(
                patient=make_patient(first_name=f"Bulk{day}x{n}"), start=start, status="complete"
            )
    return {
        "target": target,
        "signer": signer,
        "username": creds.username,
        "api": desk_api,
        "first_day": first_day,
        "smtp": smtp,
    }


def test_the_deadlocking_load_runs_clean_for_twenty_seconds(scene):
    before = deadlocks()
    load = Load(SECONDS)
    api, target = scene["api"], scene["target"]
    path = f"/patients/{target.pk}"

    def add_appointments(n=[0]):  # noqa: B006 - a shared counter on purpose
        while load.running():
            day = timezone.now() + datetime.timedelta(days=30 + n[0] % 300)
            n[0] += 1
            answer = api.post(f"{path}/appointments", json={"start": day.isoformat()})
            load.note("appointment", answer.status_code)

    def edit_patient(prefix):
        n = 0
        while load.running():
            n += 1
            answer = api.patch(path, json={"city": f"{prefix}{n}"})
            load.note("patch", answer.status_code)

    def access_cycle():
        while load.running():
            load.note("provide", api.post(f"{path}/portal-access").status_code)
            load.note("generate", api.post(f"{path}/portal-access/password", raw="").status_code)
            load.note("remove", api.delete(f"{path}/portal-access").status_code)

    def bulk():
        day = scene["first_day"]
        while load.running() and day < scene["first_day"] + datetime.timedelta(days=BULK_DAYS):
            summary = bulk_grant(criteria=Criteria(day, day), actor=Actor.system("bulk"), target=io.BytesIO())
            with load.lock:
                load.granted_in_bulk += summary.granted
            day += datetime.timedelta(days=1)

    def forgot():
        """The target patient's own reset requests: a patient-side write on
        the account staff are cycling (it must never wait on the patient)."""
        client = CsrfClient()
        while load.running():
            username = PortalAccount.objects.filter(patient=target).values_list("username", flat=True).first()
            if username is None:
                time.sleep(0.01)
                continue
            load.note("forgot", client.submit("/portal/forgot/", {"username": username}).status_code)

    def sign_in():
        client = CsrfClient()
        while load.running():
            answer = client.submit("/portal/", {"username": scene["username"], "password": "Harbor9Tide"})
            load.note("sign in", answer.status_code)
            client.post("/portal/sign-out/")

    def worker():
        while load.running():
            close_old_connections()
            invites_scan()
            invites_send_due(worker="load", limit=5)
            outbox_send_due(worker="load", limit=5)
            audit_seal()
            time.sleep(0.05)

    for n in range(2):
        load.start(f"appointments-{n}", add_appointments)
        load.start(f"edit-{n}", lambda n=n: edit_patient(f"City{n}-"))
    load.start("access", access_cycle)
    load.start("bulk", bulk)
    load.start("sign-in", sign_in)
    load.start("forgot", forgot)
    load.start("worker", worker)
    load.join()

    assert load.errors == []
    statuses = Counter(status for (_, status) in load.answers)
    assert not [s for s in statuses if s >= 500], load.answers
    count = lambda what, status: load.answers[(what, status)]  # noqa: E731
    assert count("appointment", 201) > 20 and count("patch", 200) > 20, load.answers
    assert count("provide", 201) > 3 and count("generate", 200) > 3, load.answers
    assert count("sign in", 302) > 3 and count("forgot", 302) > 3, load.answers

    # Every action that answered success has its event, and no more.
    events = Counter(AuditEvent.objects.filter(outcome="success").values_list("action", flat=True))
    assert events["appointment_created"] == count("appointment", 201)
    assert events["patient_updated"] == count("patch", 200)
    assert events["password_generated"] == count("generate", 200)
    assert events["access_removed"] == count("remove", 204)
    assert load.granted_in_bulk > 0
    by_invite = Invite.objects.filter(status="sent", grants_access=True).count()  # SPEC I6
    assert events["access_provided"] == count("provide", 201) + load.granted_in_bulk + by_invite + 1
    sent = Invite.objects.filter(status="sent").count()  # +1 above: the setup's signer
    assert sent > 0 and events["invite_sent"] == sent
    requested = AuditEvent.objects.filter(action="reset_requested", patient_id=target.pk).count()
    assert requested == count("forgot", 302)  # each request its event, queued or refused
    outbox_send_due(worker="load")  # what the worker had not reached when time was up
    codes = OutboxEmail.objects.filter(kind=OutboxEmail.Kind.RESET_CODE, status=OutboxEmail.Status.SENT)
    assert codes.count() > 0 and not OutboxEmail.objects.filter(status=OutboxEmail.Status.QUEUED).exists()
    emails_sent = OutboxEmail.objects.filter(status=OutboxEmail.Status.SENT).count()
    assert len(scene["smtp"].mails) == sent + emails_sent

    audit_seal()
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue().startswith("OK: ")
    assert deadlocks() == before  # the threads' connections reported their statistics on closing


@pytest.fixture
def two_thousand(practice, make_patient):
    """2,000 complete patients seen on one day, made in bulk."""
    from molar.patients.models import Patient

    template = make_patient(first_name="Template")
    fields = {
        f.attname: getattr(template, f.attname)
        for f in Patient._meta.concrete_fields
        if f.attname not in ("id", "external_id", "email")
    }
    patients = Patient.objects.bulk_create(
        Patient(**{**fields, "first_name": f"Bulk{n}", "email": f"bulk{n}@example.com"}) for n in range(2000)
    )
    start = datetime.datetime(2026, 1, 5, 15, tzinfo=datetime.UTC)
    Appointment.objects.bulk_create(Appointment(patient=p, start=start, status="complete") for p in patients)
    return datetime.date(2026, 1, 5)


def test_staff_and_patients_are_not_held_up_by_a_two_thousand_patient_grant(
    two_thousand, desk_api, make_patient
):
    """SPEC Q3: the grant commits per patient and holds no lock others need;
    a PATCH of another patient and a portal sign-in finish while it runs
    (how long each takes is measured by `make bench`)."""
    other = make_patient(first_name="Other")
    creds = access_provide(patient=other, actor=Actor.system("setup"))
    running, stop = threading.Event(), threading.Event()

    def progress(done, total):
        if done == 20:
            running.set()
        if stop.is_set():
            raise KeyboardInterrupt

    def grant():
        try:
            bulk_grant(
                criteria=Criteria(two_thousand, two_thousand),
                actor=Actor.system("bulk"),
                target=io.BytesIO(),
                progress=progress,
            )
        except KeyboardInterrupt:
            pass
        finally:
            connection.close()

    thread = threading.Thread(target=grant)
    thread.start()
    try:
        assert running.wait(timeout=60)
        answers = {}

        def others():
            try:
                answers["patch"] = desk_api.patch(f"/patients/{other.pk}", json={"city": "Bath"}).status_code
                answers["sign in"] = (
                    CsrfClient()
                    .submit("/portal/", {"username": creds.username, "password": creds.password})
                    .status_code
                )
            finally:
                connection.close()

        side = threading.Thread(target=others)
        side.start()
        side.join(timeout=30)
        assert not side.is_alive(), "a request waited on the bulk grant"
        assert thread.is_alive(), "the grant finished before the requests could overlap it"
        assert answers == {"patch": 200, "sign in": 302}
    finally:
        stop.set()
        thread.join(timeout=60)
