"""SPEC L7 Health Summary: view, download as PDF and FHIR R4 JSON, send to an
address the patient types; each audited (SPEC T1)."""

import json

from fhir.resources.R4B.bundle import Bundle

from molar.audit.models import AuditEvent

from .conftest import health, pdf_text


def test_health_summary_shows_the_subjects_problems_medications_allergies(patient_client, me, other):
    health(me)
    health(other, tag="-other")
    page = patient_client.get("/portal/health-summary/").content.decode()
    assert "Periodontitis" in page and "Chlorhexidine" in page and "Penicillin" in page
    assert "-other" not in page
    event = AuditEvent.objects.filter(action="phi_view").latest("id")
    assert event.patient_id == me.pk and event.detail["tab"] == "health_summary"


def test_pdf_download_holds_the_names_and_is_audited(patient_client, me):
    health(me)
    response = patient_client.get("/portal/health-summary.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="health-summary.pdf"'
    text = pdf_text(response.content)
    assert "Periodontitis" in text and "Chlorhexidine" in text and "Penicillin" in text
    assert me.last_name in text
    event = AuditEvent.objects.filter(action="phi_download").latest("id")
    assert event.patient_id == me.pk and event.detail["format"] == "pdf"


def test_fhir_json_is_a_valid_r4_collection_with_the_four_resource_types(patient_client, me):
    health(me)
    response = patient_client.get("/portal/health-summary.json")
    assert response["Content-Type"] == "application/fhir+json"
    bundle = Bundle.model_validate_json(response.content)
    assert bundle.type == "collection"
    resources = [entry.resource for entry in bundle.entry]
    kinds = {r.__resource_type__ for r in resources}
    assert kinds == {"Patient", "Condition", "MedicationStatement", "AllergyIntolerance"}
    data = json.loads(response.content)
    patient_url = next(e["fullUrl"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient")
    condition = next(e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Condition")
    assert condition["subject"]["reference"] == patient_url
    assert condition["code"]["text"] == "Periodontitis"
    allergy = next(
        e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "AllergyIntolerance"
    )
    assert allergy["reaction"][0]["severity"] == "moderate"
    assert AuditEvent.objects.filter(action="phi_download", detail__format="fhir_json").count() == 1


def test_empty_summary_is_still_a_valid_bundle(patient_client, me):
    bundle = Bundle.model_validate_json(patient_client.get("/portal/health-summary.json").content)
    assert [e.resource.__resource_type__ for e in bundle.entry] == ["Patient"]


def test_send_emails_the_pdf_to_the_typed_address_and_audits_it(patient_client, me, mailoutbox, send_outbox):
    health(me)
    response = patient_client.submit(
        "/portal/health-summary/send/", {"email": "dr.smith@otherclinic.example"}, follow=True
    )
    assert "on its way to dr.smith@otherclinic.example" in response.content.decode()
    assert mailoutbox == []  # queued (SPEC Q2); the worker sends it
    send_outbox()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["dr.smith@otherclinic.example"]
    ((filename, content, mimetype),) = message.attachments
    assert filename.endswith(".pdf") and mimetype == "application/pdf"
    assert "Periodontitis" in pdf_text(content)
    # The subject and body carry no health information and no name.
    for words in ("Periodontitis", "Chlorhexidine", "Penicillin", me.last_name, "health"):
        assert words.lower() not in (message.subject + message.body).lower()
    event = AuditEvent.objects.filter(action="phi_transmit").latest("id")
    assert event.patient_id == me.pk and event.detail["to"] == "dr.smith@otherclinic.example"


def test_send_to_a_bad_address_shows_a_message_and_sends_nothing(patient_client, me, mailoutbox, send_outbox):
    response = patient_client.submit("/portal/health-summary/send/", {"email": "not an address"}, follow=True)
    send_outbox()
    assert "Enter a valid email address." in response.content.decode()
    assert mailoutbox == []
    assert not AuditEvent.objects.filter(action="phi_transmit").exists()


def test_send_needs_a_post_with_a_csrf_token(patient_client, mailoutbox):
    assert patient_client.get("/portal/health-summary/send/").status_code == 405
    response = patient_client.post("/portal/health-summary/send/", {"email": "a@example.com"})
    assert response.status_code == 403 and mailoutbox == []


def test_sends_per_hour_are_limited(patient_client, me, mailoutbox, send_outbox):
    for _ in range(11):
        patient_client.submit("/portal/health-summary/send/", {"email": "me@example.com"})
    send_outbox()
    assert len(mailoutbox) == 10


def test_representative_downloads_and_sends_the_childs_summary(as_child, me, child, mailoutbox, send_outbox):
    health(child, tag="-kid")
    health(me, tag="-parent")
    text = pdf_text(as_child.get("/portal/health-summary.pdf").content)
    assert "Periodontitis-kid" in text and "-parent" not in text
    as_child.submit("/portal/health-summary/send/", {"email": "school.nurse@example.com"})
    send_outbox()
    assert "Penicillin-kid" in pdf_text(mailoutbox[0].attachments[0][1])
    event = AuditEvent.objects.filter(action="phi_transmit").latest("id")
    assert event.patient_id == child.pk and event.detail["representative_id"] == me.pk
    assert event.actor_type == "representative" and event.actor_id == me.pk


def test_transmit_shows_in_the_patients_access_history(patient_client, me):
    patient_client.submit("/portal/health-summary/send/", {"email": "dr.smith@otherclinic.example"})
    patient_client.get("/portal/health-summary.json")
    page = patient_client.get("/portal/history/").content.decode()
    assert "Health information sent" in page and "Health information downloaded" in page


def test_health_summary_tab_turned_off_is_404_with_downloads_and_send(patient_client, practice, mailoutbox):
    practice.show_health_summary = False
    practice.save()
    for url in ("/portal/health-summary/", "/portal/health-summary.pdf", "/portal/health-summary.json"):
        assert patient_client.get(url).status_code == 404
    response = patient_client.submit("/portal/health-summary/send/", {"email": "a@example.com"})
    assert response.status_code == 404
    assert mailoutbox == []
