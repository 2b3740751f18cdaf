"""SPEC L5: sessions end on timeout, sign-out, password change, Generate New and Remove."""

import datetime

import time_machine

from molar.access.services import access_generate_password, access_remove, access_set_password
from molar.audit.services import Actor
from tests.conftest import CsrfClient

from .conftest import GOOD_PASSWORD, sign_in

START = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
HOME = "/portal/appointments/"


def signed_out(client) -> bool:
    response = client.get(HOME)
    return response.status_code == 302 and response["Location"].startswith("/portal/?next=")


def copy_of(client) -> CsrfClient:
    copy = CsrfClient()
    copy.cookies["sessionid"] = client.cookies["sessionid"].value
    return copy


def test_sign_out_kills_a_copied_cookie(patient_client):
    stolen = copy_of(patient_client)
    assert not signed_out(stolen)
    patient_client.submit("/portal/sign-out/")
    assert signed_out(stolen) and signed_out(patient_client)


def test_generate_new_ends_sessions(patient_client, complete_patient):
    stolen = copy_of(patient_client)
    access_generate_password(patient=complete_patient, actor=Actor.system("t"))
    assert signed_out(patient_client) and signed_out(stolen)


def test_remove_ends_sessions(patient_client, complete_patient):
    access_remove(patient=complete_patient, actor=Actor.system("t"))
    assert signed_out(patient_client)


def test_typed_password_ends_sessions(patient_client, complete_patient):
    access_set_password(patient=complete_patient, actor=Actor.system("t"), password="Tide7Pool")
    assert signed_out(patient_client)


def test_password_change_ends_other_sessions_but_not_this_one(patient_client, credentials):
    other = CsrfClient()
    sign_in(other, credentials[0], GOOD_PASSWORD)
    assert not signed_out(other)
    patient_client.submit(
        "/portal/profile/",
        {
            "form": "password",
            "pw-current": GOOD_PASSWORD,
            "pw-new": "Fresh8Water",
            "pw-confirm": "Fresh8Water",
        },
    )
    assert signed_out(other)
    assert not signed_out(patient_client)


def test_idle_timeout_is_15_minutes(credentials):
    client = CsrfClient()
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, credentials[0], credentials[1])
        client.submit("/portal/password/new/", {"new": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
        clock.shift(datetime.timedelta(minutes=14, seconds=59))
        assert not signed_out(client)  # activity renews the 15 minutes
        clock.shift(datetime.timedelta(minutes=14, seconds=59))
        assert not signed_out(client)
        clock.shift(datetime.timedelta(minutes=15))  # 15 idle minutes: ended
        assert signed_out(client)


def test_absolute_limit_is_12_hours(credentials):
    client = CsrfClient()
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, *credentials)
        client.submit("/portal/password/new/", {"new": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
        for _ in range(51):  # active every 14 minutes...
            clock.shift(datetime.timedelta(minutes=14))
            assert not signed_out(client)
        clock.shift(datetime.timedelta(minutes=6))  # ...until exactly 12 hours: still in
        assert not signed_out(client)
        clock.shift(datetime.timedelta(seconds=1))
        assert signed_out(client)


def test_session_cookie_flags(credentials, settings):
    response = sign_in(CsrfClient(), *credentials)
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # served over http in tests
    settings.SESSION_COOKIE_SECURE = True
    assert sign_in(CsrfClient(), *credentials).cookies["sessionid"]["secure"]


def test_signed_in_portal_pages_are_not_cached(patient_client):
    assert "no-store" in patient_client.get("/portal/appointments/")["Cache-Control"]


def test_portal_sign_in_and_out_keep_staff_signed_in(front_desk, credentials):
    client = CsrfClient()
    client.force_login(front_desk)
    sign_in(client, *credentials)
    assert client.get("/staff/patients/").status_code == 200
    client.submit("/portal/sign-out/")
    assert client.get("/staff/patients/").status_code == 200
    assert signed_out(client)


def test_activity_renews_the_session_at_most_once_a_minute(credentials):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = CsrfClient()
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, *credentials)
        client.submit("/portal/password/new/", {"new": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
        clock.shift(datetime.timedelta(seconds=30))
        with CaptureQueriesContext(connection) as quiet:
            client.get(HOME)
        clock.shift(datetime.timedelta(seconds=31))
        with CaptureQueriesContext(connection) as renewing:
            client.get(HOME)

    def writes(context):
        return [q for q in context.captured_queries if q["sql"].startswith('UPDATE "django_session"')]

    assert writes(quiet) == [] and len(writes(renewing)) == 1


def test_a_portal_page_is_marked_not_cached_once(patient_client, monkeypatch):
    from molar import headers

    again = []
    monkeypatch.setattr(headers, "add_never_cache_headers", again.append)
    response = patient_client.get("/portal/home/")
    assert again == []  # never_cache marked it; the middleware leaves it as it is
    assert response.status_code == 200
    found = [d.strip() for d in response["Cache-Control"].split(",")]
    assert sorted(found) == sorted(["max-age=0", "no-cache", "no-store", "must-revalidate", "private"])
    assert response.has_header("Expires")


def test_sign_in_gives_a_new_key_and_writes_the_session_once(credentials):
    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from molar.portal.session import ACCOUNT_KEY
    from molar.session_activity import SEEN_KEY
    from tests.conftest import CsrfClient

    from .conftest import sign_in

    client = CsrfClient()
    before = client.session  # a session from an earlier visit
    before["visited"] = 1
    before.save()
    old = before.session_key
    client.get("/staff/login/", follow=True)  # the CSRF cookie, as a browser has it

    with CaptureQueriesContext(connection) as queries:
        assert sign_in(client, *credentials).status_code == 302

    table = Session._meta.db_table
    session_writes = [
        q["sql"].split()[0] for q in queries if f'"{table}"' in q["sql"] and "SELECT" not in q["sql"]
    ]
    assert session_writes == ["DELETE", "INSERT"]  # the old row, then the new one with its data
    new = client.cookies["sessionid"].value
    assert new != old and not Session.objects.filter(session_key=old).exists()
    data = Session.objects.get(session_key=new).get_decoded()
    assert data["visited"] == 1 and ACCOUNT_KEY in data and SEEN_KEY in data
