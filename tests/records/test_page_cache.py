"""SPEC Q1: a portal tab is served from memory while the patient's record is
unchanged (molar/portal/page_cache.py), and any change to it, however it is
written, shows at the next request (molar/patients/changes.py)."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from molar.audit.models import AuditEvent
from molar.messaging.models import Thread
from molar.messaging.services import message_reply_from_staff, message_thread_start
from molar.patients.models import Appointment, Patient
from molar.portal.page_cache import CSRF_MARK, EXPIRES_MARK, PAGES, Pages
from molar.records.models import Allergy, Document, PlannedProcedure
from tests.conftest import CsrfClient
from tests.portal.conftest import GOOD_PASSWORD, sign_in

from .conftest import document, health, ledger, plan, statement


def served_from_memory(client, url: str) -> tuple[str, bool]:
    """(page, whether it came from memory): a page from memory makes no query
    of the tab's own, so the tab's data tables are not read."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    read = " ".join(q["sql"] for q in captured if q["sql"].lstrip().upper().startswith("SELECT"))
    own_tables = ("records_", "messaging_", "patients_appointment")
    return response.content.decode(), not any(table in read for table in own_tables)


def test_a_second_view_comes_from_memory_with_fewer_queries_and_is_audited(patient_client, me):
    ledger(me, description="Cleaning")
    with CaptureQueriesContext(connection) as first:
        page = patient_client.get("/portal/account/").content.decode()
    with CaptureQueriesContext(connection) as second:
        again = patient_client.get("/portal/account/").content.decode()
    assert "Cleaning" in page and "Cleaning" in again
    # Session, account (with its version), the audit INSERT: nothing of the tab's own.
    assert len(second) == 3 < len(first)
    assert AuditEvent.objects.filter(action="phi_view", patient_id=me.pk, detail__tab="account").count() == 2
    assert CSRF_MARK not in again and EXPIRES_MARK not in again


def _appointment(patient):
    start = timezone.localtime() + datetime.timedelta(days=3)
    Appointment.objects.create(patient=patient, start=start)
    return "/portal/appointments/", f"{start:%B} {start.day}, {start.year}"


def _ledger(patient):
    ledger(patient, description="Night guard")
    return "/portal/account/", "Night guard"


def _statement_deleted(patient):
    # A plain queryset delete: no service, no signal; the trigger still sees it.
    from molar.records.models import Statement

    Statement.objects.filter(patient=patient).delete()
    return "/portal/account/", "No statements yet."


def _procedure_changed(patient):
    PlannedProcedure.objects.filter(plan__patient=patient).update(description="Porcelain onlay")
    return "/portal/treatment-plan/", "Porcelain onlay"


def _allergy_changed(patient):
    Allergy.objects.filter(patient=patient).update(reaction="Swelling of the lips")
    return "/portal/health-summary/", "Swelling of the lips"


def _document_hidden(patient):
    Document.objects.filter(patient=patient).update(show_in_portal=False)
    return "/portal/documents/", "No documents."


def _staff_answer(patient, staff):
    thread = Thread.objects.get(patient=patient)
    message_reply_from_staff(thread=thread, user=staff, body="See you Tuesday")
    return "/portal/messages/", '<span class="badge">1'


def _renamed_by_sql(patient):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE patients_patient SET last_name = %s WHERE id = %s", ["Renamed", patient.pk])
    return "/portal/health-summary/", "Renamed"


CHANGES = [
    _appointment,
    _ledger,
    _statement_deleted,
    _procedure_changed,
    _allergy_changed,
    _document_hidden,
    _staff_answer,
    _renamed_by_sql,
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__.strip("_"))
def test_any_change_to_the_record_shows_at_the_next_request(patient_client, me, front_desk, change):
    ledger(me, description="Exam")
    statement(me)
    plan(me)
    health(me)
    document(me, title="Panoramic")
    message_thread_start(
        patient=me, actor_account=me.portal_account, subject="Question", body="Is Tuesday fine?"
    )
    urls = ["/portal/appointments/", "/portal/account/", "/portal/treatment-plan/"]
    urls += ["/portal/health-summary/", "/portal/messages/", "/portal/documents/"]
    for url in urls:
        patient_client.get(url)
        assert served_from_memory(patient_client, url)[1], url
    args = (me, front_desk) if change is _staff_answer else (me,)
    url, expected = change(*args)
    page, from_memory = served_from_memory(patient_client, url)
    assert not from_memory and expected in page


def signed_in_patient(patient) -> CsrfClient:
    from molar.access.services import access_provide
    from molar.audit.services import Actor

    creds = access_provide(patient=patient, actor=Actor.system("test"))
    client = CsrfClient()
    sign_in(client, creds.username, creds.password)
    client.submit("/portal/password/new/", {"new": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    client.submit("/portal/username/", {"keep": "1"})
    return client


def test_another_patient_never_gets_a_kept_page(patient_client, me, other):
    ledger(me, description="Bridge for Maria")
    ledger(other, description="Filling for Other")
    assert "Bridge for Maria" in patient_client.get("/portal/account/").content.decode()
    page = signed_in_patient(other).get("/portal/account/").content.decode()
    assert "Filling for Other" in page and "Bridge for Maria" not in page and me.last_name not in page


def test_a_representative_and_the_child_each_get_their_own_page(patient_client, me, child):
    ledger(child, description="Sealants")
    ledger(me, description="Parent bridge")
    assert "Parent bridge" in patient_client.get("/portal/account/").content.decode()
    patient_client.submit("/portal/switch/", {"patient": child.pk})
    page = patient_client.get("/portal/account/").content.decode()
    assert "Sealants" in page and "Parent bridge" not in page
    assert 'id="viewing"' in page  # the banner of the child's record, not the parent's own page
    view = AuditEvent.objects.filter(action="phi_view").latest("id")
    assert view.patient_id == child.pk and view.detail["representative_id"] == me.pk
    # The child's own account sees the same record without the parent's banner and switcher.
    own = signed_in_patient(child)
    page = own.get("/portal/account/").content.decode()
    assert "Sealants" in page and 'id="viewing"' not in page and 'id="family-switch"' not in page


def test_a_kept_page_carries_the_token_of_the_session_that_asks(patient_client, credentials, me):
    """Two browsers of one patient: the page kept for the first carries the
    second's own CSRF token, and its sign-out form works."""
    patient_client.get("/portal/documents/")
    second = CsrfClient()
    sign_in(second, credentials[0], GOOD_PASSWORD)
    page, from_memory = served_from_memory(second, "/portal/documents/")
    assert from_memory
    form = re.search(r'action="/portal/sign-out/".*?name="csrfmiddlewaretoken" value="([^"]+)"', page, re.S)
    expires = re.search(r'data-session-expires-in="(\d+)"', page)
    assert form and expires and 0 < int(expires.group(1)) <= 15 * 60
    signed_out = second.post("/portal/sign-out/", {"csrfmiddlewaretoken": form.group(1)})
    assert signed_out.status_code == 302  # a token of another session would be a 403
    assert patient_client.get("/portal/documents/").status_code == 200  # the first is still signed in


def test_a_page_with_a_notice_is_not_kept(patient_client, me):
    refused = patient_client.submit("/portal/health-summary/send/", {"email": "not an address"})
    assert refused.status_code == 302
    with_notice = patient_client.get("/portal/health-summary/").content.decode()
    assert "Not sent" in with_notice
    page, from_memory = served_from_memory(patient_client, "/portal/health-summary/")
    assert "Not sent" not in page and not from_memory


def test_the_language_is_part_of_the_key(patient_client, me):
    assert "Balance" in patient_client.get("/portal/account/").content.decode()
    patient_client.submit("/portal/language/", {"language": "es", "next": "/portal/account/"})
    page = patient_client.get("/portal/account/").content.decode()
    assert "Saldo" in page and "Balance</h2>" not in page


def test_turning_a_tab_off_is_not_hidden_by_a_kept_page(patient_client, practice):
    assert patient_client.get("/portal/documents/").status_code == 200
    practice.show_documents = False
    practice.save()
    assert patient_client.get("/portal/documents/").status_code == 404


def test_removing_access_ends_the_session_before_any_kept_page(patient_client, me):
    from molar.access.services import access_remove
    from molar.audit.services import Actor

    assert patient_client.get("/portal/account/").status_code == 200
    access_remove(patient=me, actor=Actor.system("test"))
    assert patient_client.get("/portal/account/").status_code == 302


def test_pages_are_kept_a_limited_time_and_number(settings, monkeypatch):
    settings.PORTAL_PAGE_SECONDS, settings.PORTAL_PAGE_ENTRIES = 60, 2
    clock = [1000.0]
    monkeypatch.setattr("molar.portal.page_cache.time.monotonic", lambda: clock[0])
    pages = Pages()
    pages.put(("a",), "A")
    pages.put(("b",), "B")
    assert pages.get(("a",)) == "A"  # now the most recently used
    pages.put(("c",), "C")
    assert pages.get(("b",)) is None and pages.get(("a",)) == "A" and len(pages) == 2
    clock[0] += 61
    assert pages.get(("a",)) is None and pages.get(("c",)) is None


def test_the_time_limit_zero_turns_keeping_off(patient_client, settings):
    settings.PORTAL_PAGE_SECONDS = 0
    patient_client.get("/portal/account/")
    assert not served_from_memory(patient_client, "/portal/account/")[1]
    assert len(PAGES) == 0


def test_the_patient_row_itself_is_watched(me):
    from molar.patients.changes import version_sql

    def version():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {version_sql('p')} FROM patients_patient p WHERE p.id = %s", [me.pk])  # noqa: S608
            return cursor.fetchone()[0]

    before = version()
    Patient.objects.filter(pk=me.pk).update(preferred_name="Mari")
    assert version() != before
