"""Records for the portal's tabs, made through the services as staff would."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from molar.audit.services import Actor
from molar.patients.models import GuardianLink
from molar.records import services
from tests.portal.conftest import credentials, patient_client  # noqa: F401

STAFF = Actor.system("test")
PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def ledger(patient, *, amount="100.00", kind="charge", description="Exam", date=datetime.date(2026, 3, 2)):
    return services.ledger_entry_add(
        patient=patient, date=date, description=description, kind=kind, amount=Decimal(amount), actor=STAFF
    )


def statement(patient, start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 31)):
    return services.statement_create(patient=patient, period_start=start, period_end=end, actor=STAFF)


def plan(patient, name="Crowns", fees=("95.00", "1200.00")):
    procedures = [
        {"code": f"D27{n}0", "description": f"Procedure {n}", "tooth": str(n + 2), "fee": Decimal(fee)}
        for n, fee in enumerate(fees, start=1)
    ]
    return services.treatment_plan_save(
        patient=patient, name=name, status="active", procedures=procedures, actor=STAFF
    )


def health(patient, tag=""):
    services.problem_save(
        patient=patient,
        actor=STAFF,
        name=f"Periodontitis{tag}",
        code="K05.30",
        onset=datetime.date(2024, 5, 1),
        status="active",
    )
    services.medication_save(
        patient=patient,
        actor=STAFF,
        name=f"Chlorhexidine{tag}",
        instructions="Rinse 15 ml twice daily",
        start=datetime.date(2026, 1, 5),
        stop=None,
        active=True,
    )
    services.allergy_save(
        patient=patient,
        actor=STAFF,
        substance=f"Penicillin{tag}",
        reaction="Hives",
        severity="moderate",
        active=True,
    )


def document(patient, *, title="X-ray report", show=True, content=PDF_BYTES, name="report.pdf"):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return services.document_upload(
        patient=patient, title=title, upload=upload, show_in_portal=show, actor=STAFF
    )


@pytest.fixture
def me(complete_patient):
    return complete_patient


@pytest.fixture
def other(make_patient):
    return make_patient(first_name="Other")


@pytest.fixture
def child(make_patient, me):
    kid = make_patient(first_name="Kid")
    GuardianLink.objects.create(patient=kid, guardian=me, relationship="Mother", is_guardian=True)
    return kid


@pytest.fixture
def as_child(patient_client, child):  # noqa: F811
    patient_client.submit("/portal/switch/", {"patient": child.pk})
    return patient_client
