"""SPEC V5: every access action answers with a redirect, so reloading the page
never repeats it, and the one-time password shown after the redirect is
shown once: kept only in an encrypted, single-use cookie, never in the
database, the session store or the URL (molar/access/shown_once.py)."""

import re

import pytest
from django.contrib.sessions.models import Session

from molar.access.models import PortalAccount
from molar.access.shown_once import COOKIE
from molar.audit.models import AuditEvent


def url(patient, action=""):
    return f"/staff/patients/{patient.pk}/portal-access/{action + '/' if action else ''}"


def shown_password(response) -> str:
    match = re.search(r'id="online-password" class="secret">([^<]*)<', response.content.decode())
    return match.group(1) if match else ""


@pytest.mark.parametrize(
    "action, data, audited",
    [
        ("provide", {}, "access_provided"),
        ("generate", {}, "password_generated"),
        ("password", {"password": "Tide7Pool"}, "password_typed"),
    ],
)
def test_action_redirects_and_a_reload_repeats_nothing(
    desk_client, practice, complete_patient, action, data, audited
):
    if action != "provide":
        desk_client.submit(url(complete_patient, "provide"), follow=True)
    posted = desk_client.submit(url(complete_patient, action), data)
    assert posted.status_code == 302 and posted["Location"] == url(complete_patient)
    cookie = posted.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == url(complete_patient)

    page = desk_client.get(url(complete_patient))
    password = shown_password(page)
    assert re.fullmatch(r"[A-Za-z0-9]{8,9}", password)
    assert PortalAccount.objects.get().check_password(password)
    assert page.cookies[COOKIE]["max-age"] == 0  # deleted by the page that showed it

    reload = desk_client.get(url(complete_patient))
    assert shown_password(reload) == "********"
    assert password not in reload.content.decode()
    assert AuditEvent.objects.filter(action=audited, outcome="success").count() == 1
    assert PortalAccount.objects.get().check_password(password)  # still the one read out


def test_password_is_not_stored_in_clear_anywhere(desk_client, practice, complete_patient):
    posted = desk_client.submit(url(complete_patient, "provide"))
    page = desk_client.get(url(complete_patient))
    password = shown_password(page)
    assert password not in posted.cookies[COOKIE].value
    assert password not in posted["Location"]
    for session in Session.objects.all():
        assert password not in str(session.get_decoded()) and password not in session.session_data


def test_a_copied_cookie_shows_nothing_a_second_time(desk_client, practice, complete_patient):
    posted = desk_client.submit(url(complete_patient, "provide"))
    sealed = posted.cookies[COOKIE].value
    assert shown_password(desk_client.get(url(complete_patient))) != "********"
    desk_client.cookies[COOKIE] = sealed  # a browser that kept the old cookie
    assert shown_password(desk_client.get(url(complete_patient))) == "********"


def test_a_forged_or_foreign_cookie_shows_nothing(desk_client, admin_client, practice, complete_patient):
    posted = desk_client.submit(url(complete_patient, "provide"))
    sealed = posted.cookies[COOKIE].value
    admin_client.cookies[COOKIE] = sealed  # another staff user's browser
    assert shown_password(admin_client.get(url(complete_patient))) == "********"
    desk_client.cookies[COOKIE] = sealed[:-4] + "AAAA"
    assert shown_password(desk_client.get(url(complete_patient))) == "********"


def test_refusal_is_shown_after_the_redirect_once(desk_client, practice, complete_patient):
    posted = desk_client.submit(url(complete_patient, "generate"))
    assert posted.status_code == 302
    page = desk_client.get(url(complete_patient)).content.decode()
    assert "Please use the Provide Online Access button first." in page
    assert (
        "Please use the Provide Online Access button first."
        not in desk_client.get(url(complete_patient)).content.decode()
    )
