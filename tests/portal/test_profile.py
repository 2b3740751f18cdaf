"""SPEC L4 and U2: the patient's profile."""

from molar.access.models import PortalAccount
from molar.audit.models import AuditEvent
from tests.conftest import CsrfClient

from .conftest import GOOD_PASSWORD, sign_in


def change_password(client, current, new, confirm=None):
    return client.submit(
        "/portal/profile/",
        {"form": "password", "pw-current": current, "pw-new": new, "pw-confirm": confirm or new},
    )


def test_change_password_needs_the_current_one(patient_client):
    page = change_password(patient_client, "Wrong7Pass", "Fresh8Water").content.decode()
    assert "The current password is not correct." in page
    assert PortalAccount.objects.get().check_password(GOOD_PASSWORD)


def test_change_password_follows_policy(patient_client):
    page = change_password(patient_client, GOOD_PASSWORD, "fresh").content.decode()
    assert "Password must contain an uppercase letter." in page


def test_change_password_works_and_is_audited(patient_client):
    assert change_password(patient_client, GOOD_PASSWORD, "Fresh8Water").status_code == 302
    assert PortalAccount.objects.get().check_password("Fresh8Water")
    assert AuditEvent.objects.filter(action="password_changed", outcome="success").count() == 2


def test_change_username_needs_password_and_is_unique(patient_client, make_patient, practice):
    from molar.access.services import access_provide
    from molar.audit.services import Actor

    other = access_provide(patient=make_patient(first_name="Zed"), actor=Actor.system("t"))
    form = {"form": "username", "un-username": "NewName", "un-password": "Wrong7Pass"}
    assert "The password is not correct." in patient_client.submit("/portal/profile/", form).content.decode()
    form = {"form": "username", "un-username": other.username.upper(), "un-password": GOOD_PASSWORD}
    assert (
        "That user name is already taken. Choose another one."
        in patient_client.submit("/portal/profile/", form).content.decode()
    )
    form["un-username"] = "NewName"
    assert patient_client.submit("/portal/profile/", form).status_code == 302
    account = PortalAccount.objects.get(username="NewName")
    assert sign_in(CsrfClient(), "newname", GOOD_PASSWORD).status_code == 302
    event = AuditEvent.objects.filter(action="username_changed").last()
    assert event.actor_type == "patient" and event.patient_id == account.patient_id


def test_profile_needs_sign_in(db):
    response = CsrfClient().get("/portal/profile/")
    assert response.status_code == 302 and response["Location"].startswith("/portal/?next=")
