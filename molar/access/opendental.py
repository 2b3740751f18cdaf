"""SPEC C5: import portal accounts exported from Open Dental's `userweb` table.

Each good row becomes (or fills) a patient's portal account, keeping the Open
Dental hash so the patient's password keeps working; it is re-hashed with
Argon2id at the first successful sign-in. Bad rows are reported by line."""

import csv
import datetime
import re
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from molar.audit.services import Actor, audit_record
from molar.patients.models import Patient

from .credentials import fold_username
from .models import PortalAccount
from .services import username_problems

COLUMNS = ("PatNum", "UserName", "Password", "RequireUserNameChange", "RequirePasswordChange",
           "DateTimeLastLogin")
SHA3_FORMAT = re.compile(r"SHA3_512\$[^$]*\$[A-Za-z0-9+/]{86}==")
MD5_FORMAT = re.compile(r"[A-Za-z0-9+/]{22}==")
TRUE, FALSE = {"1", "true", "yes"}, {"0", "false", "no", ""}


@dataclass
class ImportReport:
    imported: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)


class RowInvalid(Exception):
    pass


def _bool(value: str, column: str) -> bool:
    text = (value or "").strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise RowInvalid(f"{column} must be 0 or 1, not {value!r}.")


def _password_hash(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return "!"  # no usable password: the account exists without access
    if SHA3_FORMAT.fullmatch(value):
        return value
    if MD5_FORMAT.fullmatch(value):
        return f"od_md5${value}"
    raise RowInvalid("Password is not an Open Dental hash (SHA3_512$salt$hash or legacy MD5).")


def _last_login(value: str) -> datetime.datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("T", " "))
    except ValueError:
        raise RowInvalid(f"DateTimeLastLogin {value!r} is not a date and time.") from None
    if moment.year < 1900:  # Open Dental writes 0001-01-01 for "never"
        return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _import_row(row: dict, actor: Actor) -> None:
    patnum = (row.get("PatNum") or "").strip()
    patient = Patient.objects.filter(external_id=patnum).first() if patnum else None
    if patient is None:
        raise RowInvalid(f"No patient has PatNum {patnum or '(blank)'}.")
    username = (row.get("UserName") or "").strip()
    problems = username_problems(username)
    if problems:
        raise RowInvalid(problems[0])
    if PortalAccount.objects.filter(patient=patient).exists():
        raise RowInvalid(f"Patient {patnum} already has a portal account; row skipped.")
    if PortalAccount.objects.filter(username_folded=fold_username(username)).exists():
        raise RowInvalid(f"The Online Username {username} already exists.")
    account = PortalAccount(
        patient=patient, username=username, password=_password_hash(row.get("Password")),
        require_username_change=_bool(row.get("RequireUserNameChange"), "RequireUserNameChange"),
        require_password_change=_bool(row.get("RequirePasswordChange"), "RequirePasswordChange"),
        last_login=_last_login(row.get("DateTimeLastLogin")),
    )
    try:
        with transaction.atomic():
            account.save()
            audit_record(action="access_imported", actor=actor, patient_id=patient.pk,
                         detail={"username": username, "source": "opendental"})
    except IntegrityError:
        raise RowInvalid(f"The Online Username {username} already exists.") from None


def access_import_opendental(*, lines, actor: Actor, progress=None) -> ImportReport:
    """Import every good row of an exported `userweb` CSV; report the bad ones."""
    reader = csv.DictReader(lines)
    missing = [c for c in COLUMNS[:3] if c not in (reader.fieldnames or [])]
    report = ImportReport()
    if missing:
        report.problems.append((1, f"Missing column(s): {', '.join(missing)}."))
        return report
    for row in reader:
        try:
            _import_row(row, actor)
        except RowInvalid as exc:
            report.problems.append((reader.line_num, str(exc)))
        else:
            report.imported += 1
        if progress:
            progress(reader.line_num)
    return report
