"""SPEC L8: nobody reaches data outside their family, by any portal route.

Every URL pattern of the portal is listed in ROUTES below; the test fails when
a route is added without being listed here. For each protected route, three
personas try the victim's data: a stranger (not signed in), another patient,
and a representative whose guardian link lacks "is guardian". Each is sent
to sign in or refused (404/403), the victim's data never appears in the
answer, and each refusal leaves an audit row."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.urls import URLPattern, URLResolver, get_resolver

from molar.access.services import access_provide
from molar.audit.models import AuditEvent, DeniedTally
from molar.audit.services import Actor
from molar.factors.models import SecondFactor
from molar.messaging.models import Message, Thread
from molar.patients.models import Appointment, GuardianLink
from molar.records.models import Allergy, Document, LedgerEntry, Medication, Problem, Statement
from tests.conftest import CsrfClient

MARKER = "Zyxquor"  # appears in every piece of the victim's data

# Open to anyone by design (sign-in, recovery, public information). They hold
# no patient data; the test still checks the victim's marker never shows.
PUBLIC = {
    "sign_in",
    "forgot",
    "reset",
    "contact",
    "activate",
    "activate_link",
    "sign_out",
    "second_factor",
    "logo",
}
# Signed-in pages that are about the person's own account, not a subject's data.
OWN = {
    "new_password",
    "username_offer",
    "home",
    "profile",
    "switch",
    "add_totp",
    "add_passkey",
    "remove_factor",
    "new_codes",
}
# Pages that show a subject's data; the id-less ones show the viewer's own.
SUBJECT_PAGES = {
    "appointments",
    "api_appointments",
    "account",
    "treatment_plan",
    "messages",
    "health_summary",
    "health_summary_pdf",
    "health_summary_json",
    "documents",
    "history",
    "health_summary_send",
}
# Pages that take an id of the victim's object.
BY_ID = {"statement_pdf": "statement", "document_download": "document", "message_thread": "thread"}
ROUTES = PUBLIC | OWN | SUBJECT_PAGES | set(BY_ID)
POST_ONLY = {"switch", "sign_out", "health_summary_send", "remove_factor", "new_codes"}


def portal_route_names() -> set[str]:
    """Every named URL pattern in the portal namespace, however it is included."""
    names: set[str] = set()

    def walk(patterns, inside: bool):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, inside or entry.namespace == "portal")
            elif isinstance(entry, URLPattern) and inside and entry.name:
                names.add(entry.name)

    walk(get_resolver().url_patterns, False)
    return names


def test_every_portal_route_is_covered_here():
    assert portal_route_names() == ROUTES, (
        f"A portal route is missing from (or stale in) this test: {sorted(portal_route_names() ^ ROUTES)}"
    )


@pytest.fixture
def victim(make_patient, practice, settings, tmp_path):
    """A patient with a piece of every kind of data, all marked."""
    settings.MEDIA_ROOT = tmp_path
    patient = make_patient(first_name=f"{MARKER}Anne")
    when = datetime.datetime(2031, 5, 6, 15, tzinfo=datetime.UTC)
    Appointment.objects.create(patient=patient, start=when)
    LedgerEntry.objects.create(
        patient=patient, date=when.date(), description=f"{MARKER} crown", amount=100, kind="charge"
    )
    statement = Statement.objects.create(
        patient=patient, date=when.date(), period_start=when.date(), period_end=when.date()
    )
    Problem.objects.create(patient=patient, name=f"{MARKER} gingivitis")
    Medication.objects.create(patient=patient, name=f"{MARKER}cillin")
    Allergy.objects.create(patient=patient, substance=f"{MARKER} latex")
    document = Document.objects.create(
        patient=patient,
        title=f"{MARKER} x-ray",
        show_in_portal=True,
        content_type="text/plain",
        size=6,
        file=SimpleUploadedFile("a.txt", f"{MARKER}\n".encode()),
    )
    thread = Thread.objects.create(patient=patient, subject=f"{MARKER} question")
    Message.objects.create(
        thread=thread,
        body=f"{MARKER} body",
        author_kind="patient",
        author_label="Anne",
        author_patient=patient,
    )
    access_provide(patient=patient, actor=Actor.system("t"))
    factor = SecondFactor.objects.create(
        account=patient.portal_account, kind="totp", name=f"{MARKER} phone", secret="not-used"
    )
    return {
        "patient": patient,
        "statement": statement,
        "document": document,
        "thread": thread,
        "factor": factor,
    }


def signed_in_as(make_patient, **fields) -> tuple[CsrfClient, object]:
    from tests.portal.conftest import set_new_password, sign_in

    patient = make_patient(**fields)
    creds = access_provide(patient=patient, actor=Actor.system("t"))
    client = CsrfClient()
    sign_in(client, creds.username, creds.password)
    set_new_password(client)
    client.submit("/portal/username/", {"keep": "1"})
    return client, patient


@pytest.fixture
def personas(make_patient, victim):
    other, _ = signed_in_as(make_patient, first_name="Other")
    unlinked, rep = signed_in_as(make_patient, first_name="Aunt")
    GuardianLink.objects.create(
        patient=victim["patient"], guardian=rep, relationship="Aunt", is_guardian=False
    )
    return {"stranger": CsrfClient(), "other patient": other, "representative without link": unlinked}


def url_for(name: str, victim) -> str:
    from django.urls import reverse

    if name in BY_ID:
        return reverse(f"portal:{name}", args=[victim[BY_ID[name]].pk])
    if name == "activate_link":
        return reverse("portal:activate_link", args=["not-a-token"])
    if name == "remove_factor":
        return reverse("portal:remove_factor", args=[victim["factor"].pk])
    return reverse(f"portal:{name}")


def call(client, name: str, url: str):
    if name in POST_ONLY:
        data = {"patient": "0", "email": "someone@example.com"}
        return client.submit(url, data)
    return client.get(url)


def refusals_recorded() -> int:
    """Denied events, plus anonymous refusals still being counted for their
    minute (SPEC T7: the worker turns each minute's count into one event)."""
    tallied = DeniedTally.objects.aggregate(n=Sum("count"))["n"] or 0
    return AuditEvent.objects.filter(outcome="denied").count() + tallied


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_nobody_outside_the_family_gets_the_victims_data(name, victim, personas):
    url = url_for(name, victim)
    for persona, client in personas.items():
        before = refusals_recorded()
        response = call(client, name, url)
        assert MARKER.encode() not in body_of(response), (persona, name)
        refused = response.status_code in (401, 403, 404, 410) or (
            response.status_code == 302 and "/portal/?next=" in response["Location"]
        )
        if persona == "stranger" and name not in PUBLIC:
            assert refused, (persona, name, response.status_code)
        if name in BY_ID or name == "switch":
            assert refused, (persona, name, response.status_code)
        if refused and name != "logo":  # no logo uploaded: a plain 404, nobody was refused
            assert refusals_recorded() > before, (persona, name)


def test_nobody_else_removes_the_victims_second_factor(victim, personas):
    from tests.portal.conftest import GOOD_PASSWORD

    for persona, client in personas.items():
        client.submit(url_for("remove_factor", victim), {"password": GOOD_PASSWORD})
        assert SecondFactor.objects.filter(pk=victim["factor"].pk).exists(), persona


def test_switching_to_the_victim_is_refused_for_every_persona(victim, personas):
    for persona, client in personas.items():
        response = client.submit("/portal/switch/", {"patient": victim["patient"].pk})
        assert response.status_code in (302, 404), persona
        if response.status_code == 302:  # the stranger: sent to sign in
            assert "/portal/?next=" in response["Location"]
        assert MARKER not in client.get("/portal/appointments/").content.decode(), persona


def test_the_owner_reaches_the_same_objects(victim):
    """The routes above do work for the owner: the refusals are not an accident."""
    from molar.access.services import access_generate_password
    from tests.portal.conftest import set_new_password, sign_in

    patient = victim["patient"]
    victim["factor"].delete()  # the second step has its own tests (tests/portal/test_second_factor.py)
    password = access_generate_password(patient=patient, actor=Actor.system("t"))
    client = CsrfClient()
    sign_in(client, patient.portal_account.username, password)
    set_new_password(client)
    client.submit("/portal/username/", {"keep": "1"})
    for name in sorted(BY_ID):
        response = client.get(url_for(name, victim))
        assert response.status_code == 200, name
    assert MARKER in client.get("/portal/health-summary/").content.decode()


def test_portal_not_found_page_looks_like_the_portal(patient_client):
    response = patient_client.get("/portal/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404 and "Back to your portal" in page
    assert "Staff" not in page
