"""SPEC C5: Open Dental accounts keep working and move to Argon2id."""

import base64
import hashlib

import pytest
from django.core.management import CommandError, call_command

from molar.access.models import PortalAccount
from molar.portal.services import portal_sign_in

# Test vectors computed here with hashlib, independently of molar's hashers.
SALT, PASSWORD = "q8Zt3x", "OldDental#2019"
SHA3_VECTOR = "SHA3_512${}${}".format(SALT, base64.b64encode(
    hashlib.sha3_512((SALT + PASSWORD).encode("utf-16-le")).digest()).decode())
MD5_VECTOR = base64.b64encode(hashlib.md5(PASSWORD.encode("utf-16-le")).digest()).decode()  # noqa: S324

HEADER = "PatNum,UserName,Password,RequireUserNameChange,RequirePasswordChange,DateTimeLastLogin\n"


def write(tmp_path, body: str):
    path = tmp_path / "userweb.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return str(path)


@pytest.fixture
def od_patients(make_patient):
    return [make_patient(first_name=n, external_id=str(i)) for i, n in ((11, "Ann"), (12, "Bo"), (13, "Cy"))]


def test_import_reports_bad_rows_by_line_and_keeps_good_ones(tmp_path, od_patients, capsys):
    path = write(tmp_path, (
        f"11,AnnOD,{SHA3_VECTOR},0,0,2024-03-01 10:22:33\n"
        f"12,BoOD,{MD5_VECTOR},0,1,0001-01-01 00:00:00\n"
        "99,Ghost,,0,0,\n"
        "13,,,0,0,\n"
        "13,CyOD,plaintext-oops,0,0,\n"
        "13,annod,,0,0,\n"
    ))
    call_command("import", "opendental-accounts", path)
    out, err = capsys.readouterr()
    assert "Imported 2 account(s); 4 row(s) refused." in out
    assert err.splitlines() == [
        "line 4: No patient has PatNum 99.",
        "line 5: Online Username cannot be blank.",
        "line 6: Password is not an Open Dental hash (SHA3_512$salt$hash, MD5, MD5_ECW or None$$).",
        "line 7: The Online Username annod already exists.",
    ]
    ann = PortalAccount.objects.get(username="AnnOD")
    assert ann.password == SHA3_VECTOR and ann.last_login.year == 2024
    bo = PortalAccount.objects.get(username="BoOD")
    assert bo.password == f"od_md5${MD5_VECTOR}" and bo.require_password_change
    assert bo.last_login is None


@pytest.mark.real_hasher
@pytest.mark.parametrize("username", ["AnnOD", "BoOD"])
def test_imported_hashes_verify_and_become_argon2id(tmp_path, od_patients, username):
    call_command("import", "opendental-accounts", write(tmp_path, (
        f"11,AnnOD,{SHA3_VECTOR},0,0,\n12,BoOD,{MD5_VECTOR},0,0,\n")))
    account = portal_sign_in(username=username.lower(), password=PASSWORD, address=None)
    account.refresh_from_db()
    assert account.password.startswith("argon2$argon2id$")
    assert account.check_password(PASSWORD)


def test_wrong_password_does_not_verify_legacy_hashes(tmp_path, od_patients):
    from molar.portal.services import SignInFailed

    call_command("import", "opendental-accounts", write(tmp_path, f"11,AnnOD,{SHA3_VECTOR},0,0,\n"))
    with pytest.raises(SignInFailed):
        portal_sign_in(username="AnnOD", password=PASSWORD.lower(), address=None)
    assert PortalAccount.objects.get().password == SHA3_VECTOR


def test_import_without_required_columns_fails_with_one_line(tmp_path, db):
    path = tmp_path / "bad.csv"
    path.write_text("Foo,Bar\n1,2\n")
    with pytest.raises(CommandError, match="No rows imported."):
        call_command("import", "opendental-accounts", str(path))


def test_import_of_missing_file_says_so(db):
    with pytest.raises(CommandError, match="Cannot read /nonexistent.csv"):
        call_command("import", "opendental-accounts", "/nonexistent.csv")


def test_rerunning_an_import_changes_nothing(tmp_path, od_patients):
    path = write(tmp_path, f"11,AnnOD,{SHA3_VECTOR},0,0,\n")
    call_command("import", "opendental-accounts", path)
    with pytest.raises(CommandError):
        call_command("import", "opendental-accounts", path)
    assert PortalAccount.objects.count() == 1
