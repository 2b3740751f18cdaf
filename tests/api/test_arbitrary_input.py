"""SPEC X2, X4: arbitrary dates, times and strings sent to the patient,
appointment and audit-filter APIs are accepted or refused with a 4xx JSON
answer, never a server error; whatever is stored reads back."""

import datetime
import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any date Python knows, in the shapes clients send, and text that only looks like one.
# The ends of Python's calendar and of the 1900-2100 window come up often: the
# overflows live there (9999-12-31T23:59:59-14:00 is year 10000 in UTC).
EDGES = [
    datetime.date(1, 1, 1),
    datetime.date(1, 1, 2),
    datetime.date(1899, 12, 31),
    datetime.date(1900, 1, 1),
    datetime.date(2100, 12, 31),
    datetime.date(2101, 1, 1),
    datetime.date(9999, 12, 30),
    datetime.date(9999, 12, 31),
]
dates = st.sampled_from(EDGES) | st.dates(
    min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 31)
)
offsets = (st.sampled_from([-14 * 60, 14 * 60]) | st.integers(min_value=-14 * 60, max_value=14 * 60)).map(
    lambda m: f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"
)
moments = st.builds(
    lambda d, h, m, z: f"{d.isoformat()}T{h:02d}:{m:02d}:59{z}",
    dates,
    st.integers(0, 23),
    st.integers(0, 59),
    offsets | st.just("Z") | st.just(""),
)
texts = st.text(st.characters(codec="utf-8"), max_size=40)
date_like = dates.map(str) | moments | texts | st.integers().map(str)


def no_server_error(response) -> None:
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert set(response.json()) == {"errors"} and response.json()["errors"]


@FUZZ
@given(birth_date=date_like, first=texts, last=texts, city=texts)
@example(birth_date="0001-01-01", first="Ana", last="Cruz", city="")
@example(birth_date="9999-12-31", first="Ana", last="Cruz", city="")
def test_patients_take_any_date_and_strings_without_a_server_error(desk_api, birth_date, first, last, city):
    body = {"first_name": first, "last_name": last, "city": city, "birth_date": birth_date}
    created = desk_api.post("/patients", raw=json.dumps(body))
    no_server_error(created)
    if created.status_code == 201:
        patient_id = created.json()["id"]
        no_server_error(desk_api.patch(f"/patients/{patient_id}", json={"birth_date": birth_date}))
        assert desk_api.get(f"/patients/{patient_id}").status_code == 200
    no_server_error(desk_api.get(f"/patients?{urlencode({'q': city})}"))


@FUZZ
@given(start=date_like, later=date_like, provider=texts)
@example(start="9999-12-31T23:59:59-14:00", later="0001-01-01T00:00:00+14:00", provider="")
@example(start="2026-03-04T09:00:00Z", later="9999-12-31T23:59:59-14:00", provider="")
def test_appointments_take_any_time_without_a_server_error(
    desk_api, desk_client, complete_patient, start, later, provider
):
    url = f"/patients/{complete_patient.pk}/appointments"
    created = desk_api.post(url, json={"start": start, "provider": provider[:20] or None})
    no_server_error(created)
    if created.status_code == 201:
        no_server_error(desk_api.patch(f"/appointments/{created.json()['id']}", json={"start": later}))
    listed = desk_api.get(url)
    assert listed.status_code == 200
    assert desk_client.get(f"/staff/patients/{complete_patient.pk}/").status_code == 200


@FUZZ
@given(start=date_like, end=date_like, actor=texts, action=texts)
@example(start="0001-01-01", end="9999-12-31", actor="", action="")
def test_audit_filters_take_any_dates_and_strings_without_a_server_error(
    admin_api, start, end, actor, action
):
    query = urlencode({"start": start, "end": end, "actor": actor, "action": action})
    no_server_error(admin_api.call("get", f"/audit?{query}"))
