"""Staff enter what the portal shows, from the patient's chart. Reading needs
"view patient", writing "change patient"; refused input writes nothing."""

import io
from decimal import Decimal

import pytest

from molar.audit.models import AuditEvent
from molar.records.models import Allergy, Document, LedgerEntry, Medication, Problem, Statement, TreatmentPlan

from .conftest import PDF_BYTES, document, ledger, pdf_text, statement


def records(patient) -> str:
    return f"/staff/patients/{patient.pk}/records/"


def test_chart_links_to_the_records_page(desk_client, me):
    chart = desk_client.get(f"/staff/patients/{me.pk}/").content.decode()
    assert "Clinical and account records" in chart and records(me) in chart


def test_staff_add_charge_and_payment_and_see_the_balance(desk_client, me):
    desk_client.submit(
        f"{records(me)}ledger/",
        {"date": "2026-03-02", "kind": "charge", "description": "Crown", "amount": "900.00"},
    )
    response = desk_client.submit(
        f"{records(me)}ledger/",
        {"date": "2026-03-09", "kind": "payment", "description": "Insurance", "amount": "600"},
    )
    assert response.status_code == 302
    assert sorted(LedgerEntry.objects.values_list("amount", flat=True)) == [Decimal("-600"), Decimal("900")]
    page = desk_client.get(records(me)).content.decode()
    assert "$300.00" in page and "Insurance" in page
    assert AuditEvent.objects.filter(action="ledger_entry_added", patient_id=me.pk).count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "charge", "amount": "-5"}, "Amount must be more than zero"),
        ({"kind": "adjustment", "amount": "0"}, "Amount of an adjustment cannot be zero."),
        ({"kind": "charge", "amount": "lots"}, "Enter a number."),
        ({"kind": "charge", "amount": "5", "description": ""}, "This field is required."),
    ],
)
def test_bad_ledger_input_is_shown_and_nothing_is_written(desk_client, me, data, message):
    fields = {"date": "2026-03-02", "description": "Exam", **data}
    response = desk_client.submit(f"{records(me)}ledger/", fields)
    assert response.status_code == 200 and message in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_staff_create_a_statement_and_download_it(desk_client, me):
    ledger(me, description="Crown prep")
    response = desk_client.submit(
        f"{records(me)}statements/", {"period_start": "2026-03-01", "period_end": "2026-03-31"}
    )
    assert response.status_code == 302
    created = Statement.objects.get()
    text = pdf_text(desk_client.get(f"{records(me)}statements/{created.pk}.pdf").content)
    assert "Crown prep" in text


def test_statement_period_backwards_is_refused(desk_client, me):
    response = desk_client.submit(
        f"{records(me)}statements/", {"period_start": "2026-03-31", "period_end": "2026-03-01"}
    )
    assert "The period must start on or before the day it ends." in response.content.decode()
    assert not Statement.objects.exists()


def plan_post(name="Crowns", rows=()):
    data = {
        "name": name,
        "status": "active",
        "procedures-TOTAL_FORMS": str(len(rows)),
        "procedures-INITIAL_FORMS": "0",
        "procedures-MIN_NUM_FORMS": "0",
        "procedures-MAX_NUM_FORMS": "100",
    }
    for n, row in enumerate(rows):
        data.update({f"procedures-{n}-{k}": v for k, v in row.items()})
    return data


def test_staff_save_a_plan_with_procedures_and_replace_them(desk_client, me):
    rows = [
        {"order": "1", "code": "d2391", "description": "Resin filling", "tooth": "14", "fee": "180"},
        {"order": "", "code": "D2740", "description": "Porcelain crown", "tooth": "3", "fee": "1200.50"},
    ]
    assert desk_client.submit(f"{records(me)}plans/new/", plan_post(rows=rows)).status_code == 302
    plan = TreatmentPlan.objects.get()
    assert [(p.order, p.code) for p in plan.procedures.all()] == [(1, "D2391"), (2, "D2740")]
    assert "$1,380.50" in desk_client.get(records(me)).content.decode()
    edit = f"{records(me)}plans/{plan.pk}/"
    assert "Porcelain crown" in desk_client.get(edit).content.decode()
    desk_client.submit(edit, plan_post(name="Crowns v2", rows=rows[1:]))
    plan.refresh_from_db()
    assert plan.name == "Crowns v2" and plan.procedures.count() == 1


def test_a_bad_procedure_row_saves_no_plan(desk_client, me):
    rows = [
        {"order": "1", "code": "D2391", "description": "Resin filling", "fee": "180"},
        {"order": "2", "code": "D2740", "description": "Crown", "fee": ""},
    ]
    response = desk_client.submit(f"{records(me)}plans/new/", plan_post(rows=rows))
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not TreatmentPlan.objects.exists()


def test_staff_add_and_edit_problem_medication_allergy(desk_client, me):
    desk_client.submit(
        f"{records(me)}problems/new/",
        {"name": "Bruxism", "code": "f45.8", "onset": "2025-01-02", "status": "active"},
    )
    desk_client.submit(
        f"{records(me)}medications/new/",
        {"name": "Ibuprofen", "instructions": "400 mg", "start": "2026-01-01", "active": "on"},
    )
    desk_client.submit(
        f"{records(me)}allergies/new/",
        {"substance": "Latex", "reaction": "Rash", "severity": "mild", "active": "on"},
    )
    problem = Problem.objects.get()
    assert problem.code == "F45.8" and Medication.objects.get().active
    assert Allergy.objects.get().severity == "mild"
    desk_client.submit(f"{records(me)}problems/{problem.pk}/", {"name": "Bruxism", "status": "resolved"})
    problem.refresh_from_db()
    assert problem.status == "resolved" and problem.onset is None
    page = desk_client.get(records(me)).content.decode()
    assert "Bruxism" in page and "Ibuprofen" in page and "Latex" in page
    assert AuditEvent.objects.filter(action="problem_updated", patient_id=me.pk).exists()


def test_medication_stopping_before_it_starts_is_refused(desk_client, me):
    response = desk_client.submit(
        f"{records(me)}medications/new/", {"name": "Ibuprofen", "start": "2026-02-01", "stop": "2026-01-01"}
    )
    assert "The stop date cannot be before the start date." in response.content.decode()
    assert not Medication.objects.exists()


def test_staff_upload_and_show_a_document(desk_client, me, front_desk):
    upload = io.BytesIO(PDF_BYTES)
    upload.name = "scan.pdf"
    response = desk_client.submit(f"{records(me)}documents/", {"title": "Referral letter", "file": upload})
    assert response.status_code == 302
    doc = Document.objects.get()
    assert doc.uploaded_by == front_desk and not doc.show_in_portal and doc.size == len(PDF_BYTES)
    desk_client.submit(f"{records(me)}documents/{doc.pk}/visibility/", {"show_in_portal": "1"})
    doc.refresh_from_db()
    assert doc.show_in_portal
    response = desk_client.get(f"{records(me)}documents/{doc.pk}/")
    assert b"".join(response.streaming_content) == PDF_BYTES


def test_uploading_a_program_is_refused(desk_client, me):
    upload = io.BytesIO(b"MZ\x90\x00\x03\x00")
    upload.name = "invoice.pdf"
    response = desk_client.submit(f"{records(me)}documents/", {"title": "Invoice", "file": upload})
    assert "Only PDF, PNG, JPEG and plain text files can be uploaded." in response.content.decode()
    assert not Document.objects.exists()


def test_staff_cannot_reach_another_patients_items_through_this_patient(desk_client, me, other):
    doc, s = document(other), statement(other)
    assert desk_client.get(f"{records(me)}documents/{doc.pk}/").status_code == 404
    assert desk_client.get(f"{records(me)}statements/{s.pk}.pdf").status_code == 404
    assert (
        desk_client.submit(
            f"{records(me)}documents/{doc.pk}/visibility/", {"show_in_portal": "0"}
        ).status_code
        == 404
    )


def test_clerk_may_read_but_not_write(clerk_client, me):
    assert clerk_client.get(records(me)).status_code == 200
    writes = [
        ("ledger/", {"date": "2026-03-02", "kind": "charge", "description": "X", "amount": "1"}),
        ("statements/", {"period_start": "2026-03-01", "period_end": "2026-03-31"}),
        ("plans/new/", plan_post()),
        ("problems/new/", {"name": "X", "status": "active"}),
        ("medications/new/", {"name": "X"}),
        ("allergies/new/", {"substance": "X"}),
        ("documents/", {"title": "X"}),
    ]
    for path, data in writes:
        assert clerk_client.submit(f"{records(me)}{path}", data).status_code == 403, path
    assert clerk_client.get(f"{records(me)}plans/new/").status_code == 403
    assert AuditEvent.objects.filter(action="permission_denied", patient_id=me.pk).count() == len(writes) + 1
    assert not LedgerEntry.objects.exists() and not Problem.objects.exists()
    assert "Add a ledger entry" not in clerk_client.get(records(me)).content.decode()


def test_signed_out_visitors_go_to_sign_in(client, me):
    response = client.get(records(me))
    assert response.status_code == 302 and "/staff/login/" in response["Location"]
