"""SPEC I1: invite rules from the web page and the API."""

import pytest

from molar.invites.models import Invite, InviteRule
from molar.patients.models import Appointment


def test_add_before_and_after_create_spec_defaults(admin_client, practice):
    admin_client.submit("/staff/invites/rules/add/before/")
    admin_client.submit("/staff/invites/rules/add/after/")
    before, after = InviteRule.objects.get(timing="before"), InviteRule.objects.get(timing="after")
    assert (before.days, before.hours, before.mode, before.revisit_days) == (7, 0, "until_visit", 30)
    assert (after.days, after.hours) == (0, 1)
    assert before.subject and "[ActivationLink]" in before.body
    assert not before.enabled


def test_mode_labels_are_spec_words(admin_client, practice):
    admin_client.submit("/staff/invites/rules/add/before/")
    page = admin_client.get(f"/staff/invites/rules/{InviteRule.objects.get().pk}/").content.decode()
    for label in (
        "Invite until patient visits Portal",
        "Invite once per appointment",
        "Invite once per appointment if patient has not visited Portal in N days",
    ):
        assert label in page


def form(rule, **changes):
    data = {
        f: getattr(rule, f) for f in ("timing", "days", "hours", "mode", "revisit_days", "subject", "body")
    }
    data["enabled"] = "on" if rule.enabled else ""
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


@pytest.fixture
def rule(admin_client, practice):
    admin_client.submit("/staff/invites/rules/add/before/")
    return InviteRule.objects.get()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"days": "366"}, "Days must be less than 366."),
        ({"subject": "   "}, "This field is required."),
        ({"body": ""}, "This field is required."),
        ({"hours": "-1"}, "Ensure this value is greater than or equal to 0."),
    ],
)
def test_bad_rule_input_is_refused_with_a_message(admin_client, rule, changes, message):
    page = admin_client.submit(f"/staff/invites/rules/{rule.pk}/", form(rule, **changes))
    assert message in page.content.decode()
    rule.refresh_from_db()
    assert rule.days == 7


def test_zero_days_and_hours_are_allowed(admin_client, rule):
    admin_client.submit(f"/staff/invites/rules/{rule.pk}/", form(rule, days="0", hours="0"))
    rule.refresh_from_db()
    assert (rule.days, rule.hours) == (0, 0)


def test_enabling_needs_the_portal_switch(admin_client, rule, practice):
    practice.portal_enabled = False
    practice.save()
    page = admin_client.submit(f"/staff/invites/rules/{rule.pk}/", form(rule, enabled="on"))
    assert "Patient Portal is not enabled. Turn it on in eServices Setup." in page.content.decode()
    rule.refresh_from_db()
    assert not rule.enabled


def test_unknown_tags_are_flagged_when_saved(admin_client, rule):
    response = admin_client.submit(
        f"/staff/invites/rules/{rule.pk}/", form(rule, body="Hello [NameF] [FirstName]"), follow=True
    )
    assert "Unknown tag [FirstName] will be sent as typed." in response.content.decode()
    rule.refresh_from_db()
    assert rule.body == "Hello [NameF] [FirstName]"


def test_rules_page_needs_admin(desk_client, db):
    assert desk_client.get("/staff/invites/rules/").status_code == 403


def test_api_creates_with_defaults_and_refuses_bad_values(admin_api, practice):
    created = admin_api.post("/invite-rules", {"timing": "after"})
    assert created.status_code == 201
    body = created.json()
    assert (body["days"], body["hours"], body["revisit_days"]) == (0, 1, 30)
    rule_id = body["id"]
    bad = admin_api.patch(f"/invite-rules/{rule_id}", {"days": 400})
    assert bad.status_code == 422 and bad.json() == {"errors": ["Days must be less than 366."]}
    blank = admin_api.patch(f"/invite-rules/{rule_id}", {"subject": " "})
    assert blank.status_code == 422
    flagged = admin_api.patch(f"/invite-rules/{rule_id}", {"body": "Hi [Nope]", "enabled": True})
    assert flagged.json()["warnings"] == ["Unknown tag [Nope] will be sent as typed."]
    assert admin_api.get(f"/invite-rules/{rule_id}").json()["enabled"] is True
    assert admin_api.delete(f"/invite-rules/{rule_id}").status_code == 204
    assert admin_api.get(f"/invite-rules/{rule_id}").status_code == 404


def test_api_rules_need_the_settings_permission(desk_api, practice):
    assert desk_api.get("/invite-rules").status_code == 200
    assert desk_api.post("/invite-rules", {"timing": "before"}).status_code == 403


def test_api_lists_invites_by_status_and_patient(desk_api, rule, complete_patient, make_patient):
    import datetime

    other = make_patient()
    when = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
    for patient, status in ((complete_patient, "sent"), (other, "skipped")):
        appointment = Appointment.objects.create(patient=patient, start=when)
        Invite.objects.create(
            rule=rule,
            appointment=appointment,
            patient=patient,
            status=status,
            next_attempt_at=when,
            reason="no email" if status == "skipped" else "",
        )
    assert len(desk_api.get("/invites").json()) == 2
    assert [i["status"] for i in desk_api.get("/invites?status=skipped").json()] == ["skipped"]
    assert [i["patient_id"] for i in desk_api.get(f"/invites?patient={other.pk}").json()] == [other.pk]
    assert len(desk_api.get("/invites?status=&patient=").json()) == 2
    assert desk_api.get("/invites?patient=abc").status_code == 422


def test_staff_invite_page_filters_and_shows_reasons(desk_client, rule, complete_patient):
    import datetime

    when = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
    appointment = Appointment.objects.create(patient=complete_patient, start=when)
    Invite.objects.create(
        rule=rule,
        appointment=appointment,
        patient=complete_patient,
        status="skipped",
        reason="missing address line 1",
        next_attempt_at=when,
    )
    page = desk_client.get("/staff/invites/", {"status": "skipped"}).content.decode()
    assert "missing address line 1" in page
    assert (
        "missing address line 1"
        not in desk_client.get("/staff/invites/", {"status": "sent"}).content.decode()
    )
    access_page = desk_client.get(f"/staff/patients/{complete_patient.pk}/portal-access/")
    assert "missing address line 1" in access_page.content.decode()
