"""SPEC T1: a permission denial is audited by one rule (staff.permitted),
whether the staff user came through a page or an API key."""

from molar.audit.models import AuditEvent

FIELDS = ("action", "outcome", "actor_type", "actor_id", "actor_label", "patient_id")


def _row(event: AuditEvent) -> dict:
    return {**{name: getattr(event, name) for name in FIELDS}, "permission": event.detail["permission"]}


def test_page_and_api_audit_a_denial_alike(clerk, clerk_client, clerk_api, complete_patient):
    pk = complete_patient.pk
    page = clerk_client.get(f"/staff/patients/{pk}/portal-access/")
    answer = clerk_api.get(f"/patients/{pk}/portal-access")
    assert page.status_code == 403
    assert answer.json() == {
        "errors": ["This API key's user lacks the permission access.manage_portal_access."]
    }
    by_page, by_api = AuditEvent.objects.filter(action="permission_denied").order_by("id")
    assert (
        _row(by_page)
        == _row(by_api)
        == {
            "action": "permission_denied",
            "outcome": "denied",
            "actor_type": "staff",
            "actor_id": clerk.pk,
            "actor_label": clerk.username,
            "patient_id": pk,
            "permission": "access.manage_portal_access",
        }
    )
    assert (by_page.detail["path"], by_api.detail["path"]) == (
        f"/staff/patients/{pk}/portal-access/",
        f"/api/v1/patients/{pk}/portal-access",
    )


def test_permitted_staff_leave_no_denial(desk_client, desk_api, complete_patient):
    assert desk_client.get(f"/staff/patients/{complete_patient.pk}/portal-access/").status_code == 200
    assert desk_api.get(f"/patients/{complete_patient.pk}/portal-access").status_code == 200
    assert not AuditEvent.objects.filter(action="permission_denied").exists()
