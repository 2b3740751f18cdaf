"""SPEC L7 Treatment Plan tab: saved plans with procedures, fees and totals."""

from molar.audit.models import AuditEvent

from .conftest import plan


def test_treatment_plan_shows_procedures_fees_and_total_of_the_subject_only(patient_client, me, other):
    plan(me, name="Upper crowns", fees=("95.00", "1200.00"))
    plan(other, name="Someone else's implants", fees=("4000.00",))
    page = patient_client.get("/portal/treatment-plan/").content.decode()
    assert "Upper crowns" in page and "D2710" in page and "Procedure 2" in page
    assert "$95.00" in page and "$1,200.00" in page and "$1,295.00" in page
    assert "implants" not in page and "$4,000.00" not in page
    assert AuditEvent.objects.filter(action="phi_view", detail__tab="treatment_plan").count() == 1


def test_representative_sees_the_childs_plans(as_child, me, child):
    plan(child, name="Kid sealants")
    plan(me, name="Parent bridge")
    page = as_child.get("/portal/treatment-plan/").content.decode()
    assert "Kid sealants" in page and "Parent bridge" not in page
    event = AuditEvent.objects.filter(action="phi_view").latest("id")
    assert event.patient_id == child.pk and event.detail["representative_id"] == me.pk


def test_treatment_plan_tab_turned_off_is_404(patient_client, practice):
    practice.show_treatment_plan = False
    practice.save()
    assert patient_client.get("/portal/treatment-plan/").status_code == 404
