"""SPEC L7 Documents: only files staff mark "show in portal", served as
attachments; hidden ones are never served, not even by guessing the URL."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from molar.audit.models import AuditEvent
from molar.records import services
from molar.records.models import Document
from molar.refusal import Refused

from .conftest import PDF_BYTES, STAFF, document

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_documents_lists_only_visible_documents_of_the_subject(patient_client, me, other):
    document(me, title="Visible report")
    document(me, title="Internal note", show=False)
    document(other, title="Other persons report")
    page = patient_client.get("/portal/documents/").content.decode()
    assert "Visible report" in page
    assert "Internal note" not in page and "Other persons report" not in page


def test_download_is_an_attachment_with_nosniff_and_audited(patient_client, me):
    doc = document(me, title="Perio chart 2026")
    response = patient_client.get(f"/portal/documents/{doc.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="perio-chart-2026.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.filter(action="phi_download").latest("id")
    assert event.patient_id == me.pk and event.detail["document_id"] == doc.pk


def test_hidden_document_is_404_even_by_its_url(patient_client, me):
    hidden = document(me, show=False)
    response = patient_client.get(f"/portal/documents/{hidden.pk}/")
    assert response.status_code == 404 and PDF_BYTES not in response.content
    assert AuditEvent.objects.filter(action="access_denied", patient_id=me.pk).count() == 1
    assert not AuditEvent.objects.filter(action="phi_download").exists()


def test_another_patients_document_is_404_and_audited(patient_client, me, other):
    theirs = document(other)
    assert patient_client.get(f"/portal/documents/{theirs.pk}/").status_code == 404
    denied = AuditEvent.objects.filter(action="access_denied").latest("id")
    assert denied.outcome == "denied" and denied.patient_id == me.pk


def test_representative_gets_the_childs_documents_only_after_switching(patient_client, me, child):
    doc = document(child, title="Kid x-ray")
    assert patient_client.get(f"/portal/documents/{doc.pk}/").status_code == 404
    patient_client.submit("/portal/switch/", {"patient": child.pk})
    assert "Kid x-ray" in patient_client.get("/portal/documents/").content.decode()
    assert patient_client.get(f"/portal/documents/{doc.pk}/").status_code == 200
    event = AuditEvent.objects.filter(action="phi_download").latest("id")
    assert event.patient_id == child.pk and event.detail["representative_id"] == me.pk


def test_documents_tab_turned_off_is_404(patient_client, me, practice):
    doc = document(me)
    practice.show_documents = False
    practice.save()
    assert patient_client.get("/portal/documents/").status_code == 404
    assert patient_client.get(f"/portal/documents/{doc.pk}/").status_code == 404


def test_type_comes_from_the_content_not_the_name(me):
    doc = document(me, content=PNG, name="scan.pdf")
    assert doc.content_type == "image/png" and doc.file.name.endswith(".png")
    assert "scan" not in doc.file.name


@pytest.mark.parametrize("content", [b"MZ\x90\x00\x03\x00\x00\x00", b"\x00\x01\x02binary"])
def test_other_file_types_are_refused_and_nothing_is_stored(me, media_root, content):
    with pytest.raises(Refused, match="Only PDF, PNG, JPEG and plain text"):
        document(me, content=content, name="report.pdf")
    assert not Document.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]


def test_files_over_the_limit_are_refused(me, monkeypatch):
    monkeypatch.setattr(services, "DOCUMENT_MAX_BYTES", 10)
    upload = SimpleUploadedFile("big.txt", b"x" * 11)
    with pytest.raises(Refused, match="larger than"):
        services.document_upload(patient=me, title="Big", upload=upload, show_in_portal=True, actor=STAFF)
    assert not Document.objects.exists()


def test_media_has_no_public_url(client, me):
    doc = document(me)
    assert client.get(f"/media/{doc.file.name}").status_code == 404
    assert client.get(f"/{doc.file.name}").status_code == 404
