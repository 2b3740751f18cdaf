"""SPEC V10: the portal, its emails and the printed letter in Spanish, by the
browser's Accept-Language, the switch on the sign-in page, or the patient's
preferred language (`Patient.language`, read through
molar.i18n.patient_language); invite rules with a Spanish text."""

import re
import subprocess

import pytest

from molar.access.services import access_printout, access_provide
from molar.audit.services import Actor
from molar.invites.services import invite_rule_create, invite_rule_update
from molar.patients.models import Appointment, Patient
from tests.conftest import CsrfClient
from tests.invites.conftest import NOW
from tests.invites.test_delivery import DAY, run
from tests.portal.conftest import set_new_password, sign_in

STAFF = Actor.system("test")
PAGES = [
    "/portal/home/",
    "/portal/appointments/",
    "/portal/account/",
    "/portal/treatment-plan/",
    "/portal/messages/",
    "/portal/health-summary/",
    "/portal/documents/",
    "/portal/history/",
    "/portal/profile/",
    "/portal/contact/",
]
# Words that give away an English sentence; none is Spanish.
ENGLISH = re.compile(
    r"\b(the|your|you|and|with|from|this|Sign|Password|Messages|Appointments|Account|"
    r"Profile|History|Home|Balance|Upcoming|Send)\b"
)


@pytest.fixture
def spanish_speakers():
    """Patients named Lucía prefer Spanish (Patient.language = "es")."""
    from django.db.models.signals import pre_save

    def prefer_spanish(sender, instance, **kwargs):
        if instance.first_name == "Lucía":
            instance.language = "es"

    pre_save.connect(prefer_spanish, sender=Patient, weak=False)
    yield
    pre_save.disconnect(prefer_spanish, sender=Patient)


def visible_text(html: str) -> str:
    """The page's words as a reader meets them: no markup, scripts, or data we put there."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<option value="en"[^>]*>English</option>', " ", html)  # the switch names English
    return re.sub(r"<[^>]+>", " ", html)


def english_left(html: str, *allowed: str) -> list[str]:
    text = visible_text(html)
    for word in allowed:
        text = text.replace(word, " ")
    return sorted(set(ENGLISH.findall(text)))


def test_sign_in_page_follows_accept_language(practice):
    page = CsrfClient(HTTP_ACCEPT_LANGUAGE="es").get("/portal/").content.decode()
    assert '<html lang="es">' in page and "Iniciar sesión" in page and "Nombre de usuario" in page
    assert english_left(page, practice.practice_name) == []
    english = CsrfClient(HTTP_ACCEPT_LANGUAGE="en-US").get("/portal/").content.decode()
    assert "Sign In" in english and '<html lang="en">' in english


def test_the_switch_on_the_sign_in_page_sets_the_language(practice):
    client = CsrfClient()
    response = client.submit("/portal/language/", {"language": "es", "next": "/portal/"})
    assert response.status_code == 302
    assert "Iniciar sesión" in client.get("/portal/").content.decode()
    client.submit("/portal/language/", {"language": "en", "next": "/portal/"})
    assert "Sign In" in client.get("/portal/").content.decode()


def test_staff_pages_stay_in_english_for_a_spanish_browser(desk_client):
    page = desk_client.get("/staff/patients/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="en">' in page and "Patients" in page


def test_every_portal_page_is_in_spanish(practice, complete_patient):
    credentials = access_provide(patient=complete_patient, actor=STAFF)
    client = CsrfClient(HTTP_ACCEPT_LANGUAGE="es")
    sign_in(client, credentials.username, credentials.password)
    assert "Elija una contraseña nueva" in client.get("/portal/password/new/").content.decode()
    set_new_password(client)
    client.submit("/portal/username/", {"keep": "1"})
    data = [
        practice.practice_name,
        complete_patient.full_name,
        complete_patient.first_name,
        "PDF",
        "FHIR R4 JSON",
        credentials.username,
    ]
    for path in PAGES:
        page = client.get(path).content.decode()
        assert '<html lang="es">' in page, path
        assert english_left(page, *data) == [], (path, english_left(page, *data))
    # Refusals too: a blank message, a wrong current password.
    page = client.submit("/portal/messages/", {"subject": "", "body": ""}).content.decode()
    assert "Escriba un mensaje antes de enviarlo." in page and english_left(page, *data) == []
    page = client.submit(
        "/portal/profile/",
        {"form": "password", "pw-current": "nope", "pw-new": "short", "pw-confirm": "short"},
    ).content.decode()
    assert "La contraseña actual no es correcta." in page
    assert "La contraseña debe tener al menos 8 caracteres." in page


def test_a_patient_who_prefers_spanish_gets_it_after_sign_in(practice, make_patient, spanish_speakers):
    lucia = make_patient(first_name="Lucía")
    credentials = access_provide(patient=lucia, actor=STAFF)
    client = CsrfClient(HTTP_ACCEPT_LANGUAGE="en")
    assert "Sign In" in client.get("/portal/").content.decode()
    sign_in(client, credentials.username, credentials.password)
    set_new_password(client)
    assert "Citas" in client.get("/portal/appointments/").content.decode()


def test_emails_follow_the_patients_language(
    practice, make_patient, spanish_speakers, mailoutbox, send_outbox
):
    lucia = make_patient(first_name="Lucía")
    username = access_provide(patient=lucia, actor=STAFF).username
    CsrfClient(HTTP_ACCEPT_LANGUAGE="en").submit("/portal/forgot/", {"username": username})
    send_outbox()
    mail = mailoutbox[-1]
    assert "código para restablecer la contraseña" in mail.subject
    assert "Su código de restablecimiento: " in mail.body and "reset code" not in mail.body


def test_reset_email_in_the_language_of_the_page_when_the_patient_has_none(
    practice, complete_patient, mailoutbox, send_outbox
):
    username = access_provide(patient=complete_patient, actor=STAFF).username
    CsrfClient(HTTP_ACCEPT_LANGUAGE="es").submit("/portal/forgot/", {"username": username})
    send_outbox()
    assert "Su código de restablecimiento" in mailoutbox[-1].body


def test_printed_letter_is_in_the_patients_language(practice, make_patient, spanish_speakers):
    lucia = make_patient(first_name="Lucía")
    credentials = access_provide(patient=lucia, actor=STAFF)
    pdf = access_printout(patient=lucia, actor=STAFF, password=credentials.password)
    text = subprocess.run(
        ["pdftotext", "-q", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "Acceso en línea" in text and "Contraseña:" in text and "Usuario:" in text
    assert credentials.username in text and "Online Access" not in text
    other = make_patient(first_name="Maria")
    credentials = access_provide(patient=other, actor=STAFF)
    pdf = access_printout(patient=other, actor=STAFF, password=credentials.password)
    english = subprocess.run(
        ["pdftotext", "-q", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "Online Access" in english


def test_invite_rule_sends_its_spanish_text_to_spanish_speakers(
    practice, admin, make_patient, spanish_speakers, mailoutbox
):
    rule = invite_rule_create(actor=STAFF, timing="before", enabled=True)
    invite_rule_update(
        rule=rule,
        actor=STAFF,
        subject_es="Su cita en [OfficeName]",
        body_es="Hola [NameF]: su usuario es [UserName].\n[ActivationLink]\n",
    )
    lucia, maria = make_patient(first_name="Lucía"), make_patient(first_name="Maria")
    for patient in (lucia, maria):
        Appointment.objects.create(patient=patient, start=NOW + 2 * DAY, status="scheduled")
    run()
    by_address = {mail.to[0]: mail for mail in mailoutbox}
    spanish, english = by_address[lucia.email], by_address[maria.email]
    assert spanish.subject == f"Su cita en {practice.practice_name}"
    assert spanish.body.startswith("Hola Lucía: su usuario es ")
    assert english.subject == rule.subject.replace("[OfficeName]", practice.practice_name)


def test_a_rule_without_spanish_text_sends_its_one_text_to_everyone(
    practice, admin, make_patient, spanish_speakers, mailoutbox
):
    rule = invite_rule_create(actor=STAFF, timing="before", enabled=True)
    lucia = make_patient(first_name="Lucía")
    Appointment.objects.create(patient=lucia, start=NOW + 2 * DAY, status="scheduled")
    run()
    assert mailoutbox[0].subject == rule.subject.replace("[OfficeName]", practice.practice_name)


def test_spanish_subject_needs_a_spanish_body(practice):
    from molar.refusal import Refused

    rule = invite_rule_create(actor=STAFF, timing="before")
    with pytest.raises(Refused):
        invite_rule_update(rule=rule, actor=STAFF, subject_es="Hola", body_es="")


def test_bulk_letters_each_in_its_patients_language(practice, make_patient, spanish_speakers):
    import datetime
    import io

    from molar.invites.bulk import Criteria, bulk_grant

    day = datetime.date(2026, 3, 4)
    for name in ("Lucía", "Maria"):
        Appointment.objects.create(
            patient=make_patient(first_name=name),
            start=datetime.datetime(2026, 3, 4, 15, tzinfo=datetime.UTC),
        )
    out = io.BytesIO()
    bulk_grant(criteria=Criteria(start=day, end=day, no_access_only=True), actor=STAFF, target=out)
    pages = (
        subprocess.run(["pdftotext", "-q", "-", "-"], input=out.getvalue(), capture_output=True, check=True)
        .stdout.decode()
        .split("\f")
    )
    spanish = next(page for page in pages if "Lucía" in page)
    english = next(page for page in pages if "Maria" in page)
    assert "Acceso en línea" in spanish and "Online Access" in english
