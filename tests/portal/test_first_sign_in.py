"""SPEC L2, C2, U2: the restricted session a one-time password opens."""

import datetime

import time_machine

from molar.access.models import PortalAccount
from molar.access.services import access_generate_password
from molar.audit.services import Actor
from molar.patients.models import Appointment
from molar.portal.session import ACCOUNT_KEY
from tests.conftest import CsrfClient

from .conftest import GOOD_PASSWORD, assert_refused, set_new_password, sign_in

PAGES = ["/portal/home/", "/portal/appointments/", "/portal/profile/", "/portal/username/"]


def test_one_time_password_reaches_only_set_password(credentials, complete_patient):
    Appointment.objects.create(
        patient=complete_patient, start=datetime.datetime(2030, 1, 2, 9, tzinfo=datetime.UTC)
    )
    client = CsrfClient()
    assert sign_in(client, *credentials)["Location"] == "/portal/home/"
    for page in PAGES:
        response = client.get(page, follow=True)
        assert response.redirect_chain[-1][0] == "/portal/password/new/", page
        assert "2030" not in response.content.decode()
    assert client.get("/portal/api/appointments").status_code == 403


def test_new_password_may_not_be_the_one_time_password(credentials):
    client = CsrfClient()
    sign_in(client, *credentials)
    page = set_new_password(client, credentials[1]).content.decode()
    assert "Choose a password different from the one-time password." in page
    assert PortalAccount.objects.get().require_password_change


def test_new_password_follows_policy(credentials):
    client = CsrfClient()
    sign_in(client, *credentials)
    page = set_new_password(client, "short").content.decode()
    assert "Password must be at least 8 characters." in page


def test_mismatched_confirmation_is_refused(credentials):
    client = CsrfClient()
    sign_in(client, *credentials)
    response = client.submit("/portal/password/new/", {"new": GOOD_PASSWORD, "confirm": "Other9Pass"})
    assert "The new passwords do not match." in response.content.decode()


def test_after_change_the_username_offer_shows_once(credentials):
    client = CsrfClient()
    sign_in(client, *credentials)
    assert set_new_password(client)["Location"] == "/portal/username/"
    assert "different user name" in client.get("/portal/username/").content.decode()
    client.submit("/portal/username/", {"username": "MariaSmiles"})
    assert PortalAccount.objects.get().username == "MariaSmiles"
    assert client.get("/portal/username/")["Location"] == "/portal/home/"


def test_username_offer_can_be_declined(credentials):
    client = CsrfClient()
    sign_in(client, *credentials)
    set_new_password(client)
    client.submit("/portal/username/", {"keep": "1"})
    assert PortalAccount.objects.get().username == credentials[0]
    assert client.get("/portal/username/")["Location"] == "/portal/home/"


def test_one_time_password_stops_working_after_change(credentials):
    client = CsrfClient()
    sign_in(client, *credentials)
    set_new_password(client)
    other = CsrfClient()
    assert_refused(other, sign_in(other, *credentials))


def test_one_time_password_stops_when_staff_generate_another(credentials, complete_patient):
    access_generate_password(patient=complete_patient, actor=Actor.system("t"))
    client = CsrfClient()
    assert_refused(client, sign_in(client, *credentials))


def test_one_time_password_maximum_age(practice, credentials):
    practice.otp_max_age_days = 2
    practice.save()
    account = PortalAccount.objects.get()
    with time_machine.travel(account.password_set_at + datetime.timedelta(days=2), tick=False):
        client = CsrfClient()
        assert sign_in(client, *credentials)["Location"] == "/portal/home/"
        assert client.session[ACCOUNT_KEY] == account.pk
    with time_machine.travel(account.password_set_at + datetime.timedelta(days=2, seconds=1), tick=False):
        client = CsrfClient()
        assert_refused(client, sign_in(client, *credentials))
