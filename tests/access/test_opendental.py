"""SPEC C5: Open Dental accounts keep working and move to Argon2id."""

import base64
import hashlib

import pytest
from django.core.management import CommandError, call_command

from molar.access.models import PortalAccount
from molar.portal.services import portal_sign_in

# Test vectors computed here with hashlib, independently of molar's hashers.
SALT, PASSWORD = "q8Zt3x", "OldDental#2019"
SHA3_VECTOR = "SHA3_512${}${}".format(
    SALT, base64.b64encode(hashlib.sha3_512((SALT + PASSWORD).encode("utf-16-le")).digest()).decode()
)
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
    path = write(
        tmp_path,
        (
            f"11,AnnOD,{SHA3_VECTOR},0,0,2024-03-01 10:22:33\n"
            f"12,BoOD,{MD5_VECTOR},0,1,0001-01-01 00:00:00\n"
            "99,Ghost,,0,0,\n"
            "13,,,0,0,\n"
            "13,CyOD,plaintext-oops,0,0,\n"
            "13,annod,,0,0,\n"
        ),
    )
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
    call_command(
        "import",
        "opendental-accounts",
        write(tmp_path, (f"11,AnnOD,{SHA3_VECTOR},0,0,\n12,BoOD,{MD5_VECTOR},0,0,\n")),
    )
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


# SPEC O7: a raw export of the userweb table, with Open Dental's column names.
RAW_HEADER = [
    "UserWebNum",
    "FKey",
    "FKeyType",
    "UserName",
    "Password",
    "PasswordResetCode",
    "RequireUserNameChange",
    "DateTimeLastLogin",
    "RequirePasswordChange",
]


def raw_rows(separator: str) -> str:
    rows = [
        ["1", "11", "1", "AnnOD", SHA3_VECTOR, "", "0", "2024-03-01 10:22:33", "0"],
        ["2", "12", "1", "BoOD", "None$$", "", "0", "0001-01-01 00:00:00", "0"],
        ["3", "13", "1", "CyOD", f"MD5$${MD5_VECTOR}", "RESET1", "1", "0001-01-01 00:00:00", "0"],
        ["4", "13", "2", "Staffish", MD5_VECTOR, "", "0", "0001-01-01 00:00:00", "0"],
    ]
    return "\r\n".join(separator.join(row) for row in [RAW_HEADER, *rows]) + "\r\n"


@pytest.mark.parametrize("separator", ["\t", ","])
def test_a_raw_userweb_export_imports(tmp_path, od_patients, separator, capsys):
    path = tmp_path / "userweb.txt"
    path.write_text(raw_rows(separator), encoding="utf-8")
    call_command("import", "opendental-accounts", str(path))
    out, err = capsys.readouterr()
    assert "Imported 3 account(s); 1 row(s) refused." in out
    assert err.splitlines() == ["line 5: FKeyType '2' is not a patient portal row (1)."]
    ann = PortalAccount.objects.get(username="AnnOD")
    assert ann.password == SHA3_VECTOR and ann.has_access and not ann.require_password_change
    bo = PortalAccount.objects.get(username="BoOD")  # None$$: the username, no access
    assert not bo.has_access and bo.patient.external_id == "12"
    cy = PortalAccount.objects.get(username="CyOD")  # RequireUserNameChange alone is honoured
    assert cy.has_access and cy.require_username_change and cy.username_offer_pending
    assert not cy.require_password_change and cy.password == f"od_md5${MD5_VECTOR}"


def test_none_rows_import_as_username_only_from_the_documented_csv(tmp_path, od_patients):
    call_command("import", "opendental-accounts", write(tmp_path, "11,AnnOD,None$$,0,1,\n"))
    ann = PortalAccount.objects.get(username="AnnOD")
    assert not ann.has_access


def test_require_username_change_alone_is_honoured_from_the_documented_csv(tmp_path, od_patients):
    call_command("import", "opendental-accounts", write(tmp_path, f"11,AnnOD,{SHA3_VECTOR},1,0,\n"))
    ann = PortalAccount.objects.get(username="AnnOD")
    assert ann.require_username_change and ann.username_offer_pending and not ann.require_password_change


def test_help_describes_both_formats(capsys):
    from django.core.management import get_commands, load_command_class

    command = load_command_class(get_commands()["import"], "import")
    parser = command.create_parser("molar", "import")
    with pytest.raises(SystemExit):
        parser.parse_args(["opendental-accounts", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Molar's CSV: PatNum,UserName,Password" in text
    assert "raw export of Open Dental's userweb table" in text and "tab-separated" in text
    assert "None$$" in text
