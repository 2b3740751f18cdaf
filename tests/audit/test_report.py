"""SPEC T2: the staff report (filters, sorting, pages, CSV) and its API twin."""

import csv
import datetime
import io

import pytest
import time_machine
from django.utils import timezone

from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record, audit_record_many

DESK = Actor("staff", 7, "frontdesk")
ZONE = timezone.get_default_timezone()


def at(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2025, 3, day, hour, tzinfo=ZONE)


def record_at(moment, **fields):
    with time_machine.travel(moment, tick=False):
        return audit_record(**{"actor": DESK, **fields})


@pytest.fixture
def events(db):
    return {
        "early": record_at(at(3), action="access_provided", patient_id=11),
        "signin": record_at(at(4), action="sign_in", actor=Actor("patient", 11, "maria11"), patient_id=11),
        "other": record_at(at(5), action="printed", actor=Actor("staff", 8, "backoffice"), patient_id=12),
        "late": record_at(
            at(6, 23), action="phi_view", actor=Actor("patient", 12, "=cmd|calc"), patient_id=12
        ),
    }


def shown(response) -> list[int]:
    return [event.pk for event in response.context["events"]]


def test_front_desk_is_refused_and_the_refusal_audited(desk_client, db):
    assert desk_client.get("/staff/audit/").status_code == 403
    assert desk_client.get("/staff/audit/export.csv").status_code == 403
    assert AuditEvent.objects.filter(action="permission_denied", actor_label="frontdesk").count() == 2


def test_signed_out_visitor_is_sent_to_sign_in(client, db):
    assert client.get("/staff/audit/")["Location"].startswith("/staff/login/")


def test_report_shows_newest_first(admin_client, events):
    response = admin_client.get("/staff/audit/")
    assert response.status_code == 200
    ours = {event.pk for event in events.values()}
    assert [pk for pk in shown(response) if pk in ours] == [
        events[k].pk for k in ("late", "other", "signin", "early")
    ]


def test_date_range_is_whole_days_in_the_practice_time_zone(admin_client, events):
    # 23:00 on the 6th in New York is already the 7th in UTC: still the 6th here.
    response = admin_client.get("/staff/audit/?start=2025-03-04&end=2025-03-06")
    assert shown(response) == [events["late"].pk, events["other"].pk, events["signin"].pk]


def test_filters_by_patient_actor_and_action(admin_client, events):
    assert shown(admin_client.get("/staff/audit/?patient=12")) == [events["late"].pk, events["other"].pk]
    assert shown(admin_client.get("/staff/audit/?actor=BACK")) == [events["other"].pk]
    assert shown(admin_client.get("/staff/audit/?actor_type=patient")) == [
        events["late"].pk,
        events["signin"].pk,
    ]
    assert shown(admin_client.get("/staff/audit/?action=sign_in")) == [events["signin"].pk]
    assert shown(admin_client.get("/staff/audit/?action=phi_*")) == [events["late"].pk]


def test_sorts_by_a_chosen_column_either_way(admin_client, events):
    by_action = shown(admin_client.get("/staff/audit/?sort=action&patient=12"))
    assert by_action == [events["late"].pk, events["other"].pk]  # phi_view < printed
    assert shown(admin_client.get("/staff/audit/?sort=-action&patient=12")) == by_action[::-1]


def test_unknown_sort_or_reversed_dates_are_explained(admin_client, events):
    response = admin_client.get("/staff/audit/?sort=hash")
    assert response.status_code == 400 and shown(response) == []
    response = admin_client.get("/staff/audit/?start=2025-03-06&end=2025-03-01")
    assert "The To date is before the From date." in response.content.decode()


def test_pages_hold_fifty_and_link_onwards_without_counting(admin_client, db):
    audit_record_many({"action": "sign_in", "actor_type": "patient", "patient_id": n} for n in range(1, 121))
    first = admin_client.get("/staff/audit/?action=sign_in")
    assert len(first.context["events"]) == 50 and first.context["has_next"]
    assert "page=2" in first.content.decode()
    last = admin_client.get("/staff/audit/?action=sign_in&page=3")
    assert len(last.context["events"]) == 20 and not last.context["has_next"]
    pages = [shown(admin_client.get(f"/staff/audit/?action=sign_in&page={n}")) for n in (1, 2, 3)]
    assert len({pk for page in pages for pk in page}) == 120


def test_column_headings_sort_then_reverse(admin_client, events):
    page = admin_client.get("/staff/audit/?sort=action").content.decode()
    assert "sort=-action" in page and 'aria-sort="ascending"' in page


def test_csv_export_holds_the_filtered_events_and_is_audited(admin_client, events):
    response = admin_client.get("/staff/audit/export.csv?patient=12&sort=created_at")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["id", "created_at", "actor_type"]
    assert [int(row[0]) for row in rows[1:]] == [events["other"].pk, events["late"].pk]
    exported = AuditEvent.objects.get(action="audit_exported")
    assert exported.actor_label == "admin" and exported.detail["patient_id"] == "12"


def test_csv_cells_cannot_become_spreadsheet_formulas(admin_client, events):
    response = admin_client.get("/staff/audit/export.csv?actor_type=patient&patient=12")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][4] == "'=cmd|calc"


def test_nav_links_the_report_for_administrators_only(admin_client, desk_client, db):
    assert "/staff/audit/" in admin_client.get("/staff/patients/").content.decode()
    assert "/staff/audit/" not in desk_client.get("/staff/patients/").content.decode()


# --- API -------------------------------------------------------------------


def test_api_lists_events_with_the_same_filters(admin_api, events):
    response = admin_api.get("/audit?start=2025-03-04&end=2025-03-06&patient=12&sort=created_at")
    assert response.status_code == 200
    body = response.json()
    assert [e["id"] for e in body] == [events["other"].pk, events["late"].pk]
    assert set(body[0]) == {
        "id",
        "created_at",
        "actor_type",
        "actor_id",
        "actor_label",
        "patient_id",
        "action",
        "outcome",
        "client_ip",
        "request_id",
        "detail",
    }
    assert body[0]["actor_label"] == "backoffice"


def test_api_filters_by_actor_and_action_and_pages(admin_api, events):
    assert [e["id"] for e in admin_api.get("/audit?actor=maria&action=sign_in").json()] == [
        events["signin"].pk
    ]
    first = admin_api.get("/audit?actor_type=staff&limit=1").json()
    second = admin_api.get("/audit?actor_type=staff&limit=1&offset=1").json()
    assert [first[0]["id"], second[0]["id"]] == [events["other"].pk, events["early"].pk]


def test_api_treats_blank_filters_as_none(admin_api, events):
    response = admin_api.get("/audit?start=&end=&patient=&actor=&action=&sort=")
    assert response.status_code == 200 and len(response.json()) >= 4


def test_api_explains_bad_parameters_one_message_each(admin_api, db):
    response = admin_api.get("/audit?sort=hash&limit=0&patient=x")
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert len(errors) == 3
    assert any(e.startswith("sort: Sort by one of created_at, action") for e in errors), errors
    response = admin_api.get("/audit?start=2025-03-06&end=2025-03-01")
    assert response.status_code == 422
    assert response.json() == {"errors": ["end: The end date is before the start date."]}


def test_api_refuses_front_desk_and_audits_it(desk_api, db):
    response = desk_api.get("/audit")
    assert response.status_code == 403 and "manage_settings" in response.json()["errors"][0]
    assert AuditEvent.objects.filter(action="permission_denied").exists()


def test_details_read_as_words_not_json():
    """SPEC V9: audit details are readable text on the page."""
    from molar.audit.views import detail_readable

    assert detail_readable({"source": "window", "username": "Sofía35324"}) == (
        "Source: window · Username: Sofía35324"
    )
    assert detail_readable(
        {"reasons": ["Missing patient city.", "Missing patient email."], "new_access": True}
    ) == ("New access: yes · Reasons: Missing patient city. Missing patient email.")
    assert detail_readable({}) == ""


def test_report_and_api_take_the_same_date_order(admin_client, admin_api, events):
    """One rule (dates.window_refusal) for the page and the API: a one-day
    window is fine, a reversed one refused by both, each in its own words."""
    assert shown(admin_client.get("/staff/audit/?start=2025-03-05&end=2025-03-05")) == [events["other"].pk]
    assert [e["id"] for e in admin_api.get("/audit?start=2025-03-05&end=2025-03-05").json()] == [
        events["other"].pk
    ]
    page = admin_client.get("/staff/audit/?start=2025-03-05&end=2025-03-04")
    assert page.context["form"].errors == {"end": ["The To date is before the From date."]}
    answer = admin_api.get("/audit?start=2025-03-05&end=2025-03-04")
    assert answer.json() == {"errors": ["end: The end date is before the start date."]}
