"""SPEC V4: "Stay signed in" renews a live session; it never revives an ended one."""

import datetime

import time_machine
from django.utils import timezone

from tests.conftest import CsrfClient

from .conftest import set_new_password, sign_in


def test_keepalive_renews_a_live_session_and_reports_an_ended_one(credentials, settings):
    settings.SESSION_COOKIE_AGE = 3
    client = CsrfClient()
    sign_in(client, *credentials)
    set_new_password(client)
    assert client.get("/session/keepalive").json()["expires_in"] in (2, 3)
    assert client.submit("/session/keepalive").json() == {"expires_in": 3}
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=3.5)):
        assert client.get("/session/keepalive").status_code == 401
        assert client.submit("/session/keepalive").status_code == 401
        assert client.get("/portal/home/")["Location"].startswith("/portal/?")


def test_keepalive_for_nobody_is_401(db):
    assert CsrfClient().submit("/session/keepalive").status_code == 401
