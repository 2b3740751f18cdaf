"""SPEC T7: anonymous refusals are counted per client address and minute and
become one event each, so a flood cannot grow the audit table without bound."""

import datetime

from django.test import Client

from molar.audit.models import AuditEvent, DeniedTally
from molar.audit.services import audit_flush_tallies

T0 = datetime.datetime(2026, 3, 2, 9, 0, 10, tzinfo=datetime.UTC)


def test_a_flood_of_anonymous_requests_becomes_one_event_per_address_and_minute(db, time_machine):
    time_machine.move_to(T0)
    for _ in range(40):
        Client(REMOTE_ADDR="203.0.113.9").get("/portal/appointments/")
    for _ in range(3):
        Client(REMOTE_ADDR="198.51.100.4").get("/portal/messages/")
    assert not AuditEvent.objects.filter(action="access_denied").exists()
    assert audit_flush_tallies() == 0  # the minute is not over yet
    time_machine.move_to(T0 + datetime.timedelta(minutes=1))
    Client(REMOTE_ADDR="203.0.113.9").get("/portal/appointments/")
    assert audit_flush_tallies() == 2
    events = {e.client_ip: e for e in AuditEvent.objects.filter(action="access_denied")}
    assert set(events) == {"203.0.113.9", "198.51.100.4"}
    assert events["203.0.113.9"].detail == {
        "count": 40,
        "minute": "2026-03-02T09:00:00+00:00",
        "path": "/portal/appointments/",
    }
    assert events["198.51.100.4"].detail["count"] == 3
    assert all(e.outcome == "denied" and e.actor_type == "anonymous" for e in events.values())
    assert DeniedTally.objects.get().count == 1  # the new minute goes on counting
    assert audit_flush_tallies() == 0
