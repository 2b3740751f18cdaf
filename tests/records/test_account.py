"""SPEC L7 Account tab: balance and statements from staff-entered ledger entries."""

import datetime

from molar.audit.models import AuditEvent

from .conftest import ledger, pdf_text, statement


def test_account_shows_balance_and_statements_of_the_subject_only(patient_client, me, other):
    ledger(me, amount="250.00", description="Crown prep")
    ledger(me, amount="100.00", kind="payment", description="Card payment")
    ledger(other, amount="9999.00", description="Someone else's implant")
    statement(me)
    page = patient_client.get("/portal/account/").content.decode()
    assert "$150.00" in page and "Crown prep" in page and "-$100.00" in page
    assert "implant" not in page and "$9,999.00" not in page
    assert "/portal/account/statements/" in page


def test_statement_pdf_lists_the_entries_of_its_period(patient_client, me):
    ledger(me, amount="80.00", description="Old cleaning", date=datetime.date(2026, 2, 10))
    ledger(me, amount="250.00", description="Crown prep", date=datetime.date(2026, 3, 5))
    ledger(me, amount="50.00", kind="payment", description="Card payment", date=datetime.date(2026, 3, 20))
    ledger(me, amount="40.00", description="April visit", date=datetime.date(2026, 4, 2))
    s = statement(me)
    response = patient_client.get(f"/portal/account/statements/{s.pk}.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    text = pdf_text(response.content)
    assert "Crown prep" in text and "Card payment" in text
    assert "Old cleaning" not in text and "April visit" not in text
    assert "$80.00" in text and "$280.00" in text  # carried in, then the period's end
    event = AuditEvent.objects.filter(action="phi_download").latest("id")
    assert event.patient_id == me.pk and event.detail["format"] == "pdf"
    assert event.detail["statement_id"] == s.pk


def test_another_patients_statement_is_404_and_audited(patient_client, me, other):
    theirs = statement(other)
    response = patient_client.get(f"/portal/account/statements/{theirs.pk}.pdf")
    assert response.status_code == 404 and b"%PDF" not in response.content
    denied = AuditEvent.objects.filter(action="access_denied").latest("id")
    assert denied.outcome == "denied" and denied.patient_id == me.pk
    assert not AuditEvent.objects.filter(action="phi_download").exists()


def test_representative_sees_the_childs_account_with_both_ids_audited(as_child, me, child):
    ledger(child, amount="75.00", description="Sealants")
    ledger(me, amount="500.00", description="Parent bridge")
    s = statement(child)
    page = as_child.get("/portal/account/").content.decode()
    assert "Sealants" in page and "Parent bridge" not in page
    view = AuditEvent.objects.filter(action="phi_view").latest("id")
    assert view.patient_id == child.pk and view.actor_id == me.pk
    assert view.detail["representative_id"] == me.pk and view.actor_type == "representative"
    assert as_child.get(f"/portal/account/statements/{s.pk}.pdf").status_code == 200
    download = AuditEvent.objects.filter(action="phi_download").latest("id")
    assert download.patient_id == child.pk and download.detail["representative_id"] == me.pk


def test_account_tab_turned_off_is_404_with_its_downloads(patient_client, me, practice):
    s = statement(me)
    practice.show_account = False
    practice.save()
    assert patient_client.get("/portal/account/").status_code == 404
    assert patient_client.get(f"/portal/account/statements/{s.pk}.pdf").status_code == 404
    assert ">Account<" not in patient_client.get("/portal/profile/").content.decode()
