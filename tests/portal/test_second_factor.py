"""SPEC K2 for patients: an authenticator app added from Profile is asked at
every sign-in; recovery codes work once; staff clear it (audited). Passkeys:
tests/browser/test_second_factors.py."""

import datetime

import pyotp
import time_machine

from molar.audit.models import AuditEvent
from molar.factors.models import RecoveryCode, SecondFactor
from tests.conftest import CsrfClient
from tests.staffauth.conftest import shown_codes, shown_secret

from .conftest import GOOD_PASSWORD, sign_in


def clear_url(patient) -> str:
    return f"/staff/patients/{patient.pk}/portal-access/second-factors/clear/"


def signed_in(client) -> bool:
    return client.get("/portal/appointments/").status_code == 200


def add_authenticator(client) -> tuple[str, list[str]]:
    secret = shown_secret(client.get("/portal/profile/authenticator/").content.decode())
    page = client.submit(
        "/portal/profile/authenticator/", {"code": pyotp.TOTP(secret).now(), "name": "Phone"}
    )
    return secret, shown_codes(page.content.decode())


def enrolled(patient_client) -> tuple[str, list[str]]:
    return add_authenticator(patient_client)


def later() -> datetime.datetime:
    """An hour from now: the code used to enroll belongs to a past time step."""
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(hours=1)


def test_an_authenticator_app_is_asked_at_every_sign_in(patient_client, credentials):
    secret, codes = enrolled(patient_client)
    assert len(codes) == 10
    assert "Authenticator app: Phone" in patient_client.get("/portal/profile/").content.decode()
    start = later()
    with time_machine.travel(start, tick=False):
        client = CsrfClient()
        response = sign_in(client, credentials[0], GOOD_PASSWORD)
        assert response["Location"] == "/portal/sign-in/second-step/"
        assert not signed_in(client)
        assert not AuditEvent.objects.filter(
            action="sign_in", outcome="success", created_at__gte=start
        ).exists()
        page = client.submit("/portal/sign-in/second-step/", {"code": "999999"}).content.decode()
        assert "not accepted" in page and not signed_in(client)
        client.submit("/portal/sign-in/second-step/", {"code": pyotp.TOTP(secret).at(start)})
        assert signed_in(client)
    success = AuditEvent.objects.filter(action="sign_in", outcome="success").order_by("id").last()
    assert success.detail == {"second_factor": "totp"}
    assert (
        AuditEvent.objects.filter(
            action="sign_in", outcome="failure", detail__reason="wrong second factor"
        ).count()
        == 1
    )


def test_a_recovery_code_works_once(patient_client, credentials):
    _, codes = enrolled(patient_client)
    for expected in (True, False):
        client = CsrfClient()
        sign_in(client, credentials[0], GOOD_PASSWORD)
        client.submit("/portal/sign-in/second-step/", {"code": codes[0]})
        assert signed_in(client) is expected


def test_staff_clear_a_patients_factors_and_it_is_audited(
    patient_client, credentials, complete_patient, desk_client
):
    enrolled(patient_client)
    page = desk_client.get(f"/staff/patients/{complete_patient.pk}/portal-access/").content.decode()
    assert "Clear Two-Step Sign-In" in page and "Authenticator app (Phone)" in page
    response = desk_client.submit(clear_url(complete_patient), follow=True)  # SPEC V5: redirected
    assert "Two-step sign-in cleared." in response.content.decode()
    assert not SecondFactor.objects.exists() and not RecoveryCode.objects.exists()
    event = AuditEvent.objects.get(action="second_factors_cleared")
    assert event.patient_id == complete_patient.pk and event.actor_label == "frontdesk"
    client = CsrfClient()
    sign_in(client, credentials[0], GOOD_PASSWORD)
    assert signed_in(client)


def test_staff_without_the_permission_cannot_clear_factors(patient_client, complete_patient, clerk_client):
    enrolled(patient_client)
    response = clerk_client.submit(clear_url(complete_patient))
    assert response.status_code == 403 and SecondFactor.objects.exists()


def test_removing_a_factor_asks_for_the_password(patient_client):
    enrolled(patient_client)
    factor = SecondFactor.objects.get()
    patient_client.submit(f"/portal/profile/sign-in-methods/{factor.pk}/remove/", {"password": "Wrong7Pass"})
    assert SecondFactor.objects.exists()
    patient_client.submit(f"/portal/profile/sign-in-methods/{factor.pk}/remove/", {"password": GOOD_PASSWORD})
    assert not SecondFactor.objects.exists() and not RecoveryCode.objects.exists()
    assert AuditEvent.objects.filter(action="second_factor_removed").count() == 1


def test_a_one_time_password_session_cannot_add_a_factor(credentials):
    client = CsrfClient()
    sign_in(client, *credentials)
    response = client.get("/portal/profile/authenticator/")
    assert response.status_code == 302 and response["Location"] == "/portal/password/new/"


def test_patients_and_staff_confirm_the_secret_last_shown(patient_client, desk_client):
    """One rule (factors.totp.totp_enrolling_secret) for both pages: the secret
    shown is kept for the confirming POST; showing the page again replaces it."""
    for client, url in (
        (patient_client, "/portal/profile/authenticator/"),
        (desk_client, "/staff/security/authenticator/"),
    ):
        first = shown_secret(client.get(url).content.decode())
        second = shown_secret(client.get(url).content.decode())
        assert first != second
        stale = client.submit(url, {"code": pyotp.TOTP(first).now(), "name": "Phone"})
        assert not SecondFactor.objects.exists(), url
        assert shown_secret(stale.content.decode()) == second
        client.submit(url, {"code": pyotp.TOTP(second).now(), "name": "Phone"})
        assert SecondFactor.objects.count() == 1, url
        SecondFactor.objects.all().delete()


def _factor_queries(client, username: str) -> tuple[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = sign_in(client, username, GOOD_PASSWORD)
    return response["Location"], sum("factors_secondfactor" in query["sql"] for query in queries)


def test_a_sign_in_asks_once_whether_the_second_step_is_due(patient_client, credentials):
    location, asked = _factor_queries(CsrfClient(), credentials[0])
    assert location != "/portal/sign-in/second-step/"
    assert asked == 1
    enrolled(patient_client)
    with time_machine.travel(later(), tick=False):
        location, asked = _factor_queries(CsrfClient(), credentials[0])
    assert location == "/portal/sign-in/second-step/"
    assert asked == 1
