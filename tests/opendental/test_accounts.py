"""SPEC O2/O4 (C5): portal accounts from Open Dental's `userweb`, signed in at the portal."""

import base64
import hashlib
import secrets

import pytest

from molar.access.models import PortalAccount
from molar.access.services import access_provide
from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.opendental.models import SyncPass
from molar.portal.services import SignInFailed, portal_sign_in
from tests.conftest import CsrfClient, signed_in

# Open Dental's own test (schema file): password " " with an empty salt.
OD_VECTOR = (
    "SHA3_512$$J3k3VWdgC8ffI5EhDVNr8aNfrtYZqm+bwUDFSbTbArOodGBxByKJC8S1gRmJwNKO0omhhpjb6DWp8nBMlfm4cA=="
)
PASSWORD = "Harbor#Smile2019"


def sha3(password: str, salt: str) -> str:
    digest = hashlib.sha3_512((salt + password).encode("utf-16-le")).digest()
    return f"SHA3_512${salt}${base64.b64encode(digest).decode()}"


def md5_base64(password: str) -> str:
    return base64.b64encode(hashlib.md5(password.encode("utf-16-le")).digest()).decode()  # noqa: S324


def new_salt() -> str:
    return base64.b64encode(secrets.token_bytes(64)).decode()  # 88 characters, as Open Dental's


FORMS = {
    "sha3 with a generated salt": lambda: sha3(PASSWORD, new_salt()),
    "legacy bare md5": lambda: md5_base64(PASSWORD),
    "MD5$$": lambda: "MD5$$" + md5_base64(PASSWORD),
    "MD5_ECW$$": lambda: "MD5_ECW$$" + hashlib.md5(PASSWORD.encode()).hexdigest(),  # noqa: S324
}


def account(pat_num: int) -> PortalAccount:
    return PortalAccount.objects.get(patient__od_pat_num=pat_num)


def sign_in_page(username: str, password: str):
    client = CsrfClient()
    return client, client.submit("/portal/", {"username": username, "password": password})


@pytest.mark.real_hasher
def test_open_dental_test_vector_signs_in_and_is_rehashed_to_argon2id(od, sync):
    num = od.patient(FName="Space")
    od.userweb(num, "Space100", OD_VECTOR)
    sync()
    assert account(num).password == OD_VECTOR
    signed = portal_sign_in(username="space100", password=" ", address=None)
    signed.refresh_from_db()
    assert signed.password.startswith("argon2$argon2id$")
    assert signed.check_password(" ")


@pytest.mark.real_hasher
@pytest.mark.parametrize("form", FORMS)
def test_each_open_dental_hash_form_signs_in_at_the_portal_and_becomes_argon2id(od, sync, form):
    num = od.patient(FName="Ana")
    od.userweb(num, "Ana4821", FORMS[form]())
    sync()
    client, response = sign_in_page("ana4821", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/portal/home/"
    assert account(num).password.startswith("argon2$argon2id$")
    assert account(num).check_password(PASSWORD)


@pytest.mark.parametrize("form", FORMS)
def test_a_wrong_password_does_not_sign_in(od, sync, form):
    num = od.patient(FName="Ana")
    od.userweb(num, "Ana4821", FORMS[form]())
    sync()
    with pytest.raises(SignInFailed):
        portal_sign_in(username="Ana4821", password=PASSWORD.lower(), address=None)


def test_require_password_change_makes_it_a_one_time_password(od, sync):
    num = od.patient(FName="Ana")
    od.userweb(num, "Ana4821", sha3(PASSWORD, new_salt()), RequirePasswordChange=1)
    sync()
    client, response = sign_in_page("Ana4821", PASSWORD)
    assert client.get("/portal/appointments/")["Location"] == "/portal/password/new/"


def test_require_username_change_offers_a_new_username_at_sign_in(od, sync):
    num = od.patient(FName="Ana")
    od.userweb(num, "Ana4821", sha3(PASSWORD, new_salt()), RequireUserNameChange=1)
    sync()
    assert account(num).require_username_change and account(num).username_offer_pending
    client, response = sign_in_page("Ana4821", PASSWORD)
    assert response["Location"] == "/portal/username/"
    client.submit("/portal/username/", {"username": "AnaOrtega"})
    changed = account(num)
    assert changed.username == "AnaOrtega"
    assert not changed.require_username_change and not changed.username_offer_pending


def test_none_keeps_the_username_without_access(od, sync):
    num = od.patient(FName="Ana")
    od.userweb(num, "Ana4821", "None$$")
    sync()
    kept = account(num)
    assert kept.username == "Ana4821" and not kept.has_access
    with pytest.raises(SignInFailed):
        portal_sign_in(username="Ana4821", password="None$$", address=None)


def test_an_account_created_in_molar_is_never_overwritten(od, sync, front_desk):
    num = od.patient(FName="Ana")
    sync()
    patient = account_patient(num)
    credentials = access_provide(patient=patient, actor=Actor.staff(front_desk))
    od.userweb(num, "OdName", sha3(PASSWORD, new_salt()))
    sync()
    kept = PortalAccount.objects.get(patient=patient)
    assert kept.username == credentials.username and kept.check_password(credentials.password)


def account_patient(num: int):
    from molar.patients.models import Patient

    return Patient.objects.get(od_pat_num=num)


def test_an_account_changed_in_molar_is_never_overwritten(od, sync):
    num = od.patient(FName="Ana")
    row = od.userweb(num, "Ana4821", sha3(PASSWORD, new_salt()))
    sync()
    portal_sign_in(username="Ana4821", password=PASSWORD, address=None)  # re-hashed here
    od.update("userweb", row, UserName="Ana9999", Password=sha3("Other#Pass1", new_salt()))
    assert sync().accounts == 0
    kept = account(num)
    assert kept.username == "Ana4821" and kept.check_password(PASSWORD)


def test_an_account_the_sync_manages_follows_open_dental(od, sync):
    num = od.patient(FName="Ana")
    row = od.userweb(num, "Ana4821", sha3(PASSWORD, new_salt()))
    sync()
    od.update(
        "userweb", row, UserName="Ana5000", Password=sha3("Other#Pass1", new_salt()), RequirePasswordChange=1
    )
    assert sync().accounts == 1
    followed = account(num)
    assert followed.username == "Ana5000" and followed.check_password("Other#Pass1")
    assert followed.require_password_change
    # Access removed in Open Dental: removed here through the audited service.
    od.update("userweb", row, Password="None$$")
    sync()
    assert not account(num).has_access and account(num).username == "Ana5000"
    assert AuditEvent.objects.filter(action="access_removed", patient_id=account(num).patient_id).exists()
    assert sync().total_changes == 0


def test_a_username_clash_is_reported_not_resolved(od, sync, make_patient, front_desk, capsys):
    from django.core.management import call_command

    other = make_patient(first_name="Molar")
    PortalAccount.objects.create(patient=other, username="Ana4821", password="!")
    num = od.patient(FName="Ana")
    od.userweb(num, "ana4821", sha3(PASSWORD, new_salt()))
    call_command("opendental", "sync")
    out = capsys.readouterr().out
    assert f"Username clash: Open Dental username ana4821 (PatNum {num}) is already used" in out
    assert not PortalAccount.objects.filter(patient__od_pat_num=num).exists()
    record = SyncPass.objects.get()
    assert len(record.clashes) == 1 and record.errors == 1
    page = signed_in(front_desk).get("/staff/opendental/")
    assert "Open Dental username ana4821" in page.content.decode()
    assert PortalAccount.objects.get(patient=other).username == "Ana4821"


def test_an_unresolved_clash_stays_reported_when_userweb_is_unchanged(od, sync, make_patient, monkeypatch):
    import datetime

    from molar.opendental.models import SyncState
    from molar.opendental.reader import Source

    other = make_patient(first_name="Molar")
    PortalAccount.objects.create(patient=other, username="Ana4821", password="!")
    od.userweb(od.patient(FName="Ana"), "ana4821", sha3(PASSWORD, new_salt()))
    sync()
    long_ago = SyncState.objects.get().since - datetime.timedelta(hours=1)
    monkeypatch.setattr(Source, "update_times", lambda self: dict.fromkeys(("userweb", "patient"), long_ago))
    assert len(sync().clashes) == 1
