"""Portal accounts from Open Dental's `userweb` table (SPEC C5, O2, O4, O7).

Two doors, one conversion: `access_import_opendental` reads an exported file
(Molar's documented CSV, or a raw `userweb` export with Open Dental's own
column names, tab- or comma-separated), and `access_sync_opendental` applies
a batch read by the Open Dental sync. Either way the Open Dental hash is kept
so the patient's password keeps working; it is re-hashed with Argon2id at the
first successful sign-in. `None$$` keeps the username with no access.

An account created or changed in Molar is never overwritten by the sync: the
sync stores a digest of what it wrote (`od_digest`) and leaves alone any
account that no longer matches it."""

import csv
import datetime
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import is_password_usable
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from molar.audit.services import Actor, audit_record
from molar.patients.models import Patient
from molar.refusal import Refused

from .credentials import fold_username
from .models import PortalAccount
from .services import access_remove, username_problems

# Molar's documented CSV (README): PatNum, UserName, Password, optional flags.
COLUMNS = (
    "PatNum",
    "UserName",
    "Password",
    "RequireUserNameChange",
    "RequirePasswordChange",
    "DateTimeLastLogin",
)
# A raw export of the table: Open Dental's column names (FKey is the PatNum).
RAW_COLUMNS = (
    "UserWebNum",
    "FKey",
    "FKeyType",
    "UserName",
    "Password",
    "PasswordResetCode",
    "RequireUserNameChange",
    "DateTimeLastLogin",
    "RequirePasswordChange",
)
PATIENT_PORTAL = "1"  # UserWebFKeyType.PatientPortal
SHA3_FORMAT = re.compile(r"SHA3_512\$[^$]*\$[A-Za-z0-9+/]{86}==")
MD5_FORMAT = re.compile(r"(?:MD5\$\$)?([A-Za-z0-9+/]{22}==)")
MD5_ECW_FORMAT = re.compile(r"MD5_ECW\$\$[0-9a-fA-F]{32}")
NO_ACCESS = "!"  # noqa: S105 - Django's mark of an unusable password
TRUE, FALSE = {"1", "true", "yes"}, {"0", "false", "no", ""}


def opendental_password(value: str | None) -> str:
    """The stored form of a `userweb.Password` value; unusable for `None$$` or blank."""
    value = (value or "").strip()
    if not value or value == "None$$":
        return NO_ACCESS  # access removed, or a username reserved before any password
    if SHA3_FORMAT.fullmatch(value) or MD5_ECW_FORMAT.fullmatch(value):
        return value
    md5 = MD5_FORMAT.fullmatch(value)
    if md5:
        return f"od_md5${md5.group(1)}"
    raise Refused("Password is not an Open Dental hash (SHA3_512$salt$hash, MD5, MD5_ECW or None$$).")


def opendental_flag(value: object, column: str) -> bool:
    text = ("" if value is None else str(value)).strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise Refused(f"{column} must be 0 or 1, not {value!r}.")


def opendental_last_login(value: object) -> datetime.datetime | None:
    """DateTimeLastLogin: the practice's wall clock; 0001-01-01 means never."""
    if isinstance(value, str):
        value = value.strip()
        if not value or value.upper() == "NULL":
            return None
        try:
            value = datetime.datetime.fromisoformat(value.replace("T", " "))
        except ValueError:
            raise Refused(f"DateTimeLastLogin {value!r} is not a date and time.") from None
    if not isinstance(value, datetime.datetime) or value.year < 1900:
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def account_digest(
    username: str, password: str, require_password_change: bool, require_username_change: bool
) -> str:
    """What the sync wrote, in one value. Any unusable password counts as one
    state (removing access writes a random one), and so do its flags."""
    usable = is_password_usable(password)
    parts = (
        username,
        password if usable else NO_ACCESS,
        str(usable and require_password_change),
        str(usable and require_username_change),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _digest_of(account: PortalAccount) -> str:
    return account_digest(
        account.username, account.password, account.require_password_change, account.require_username_change
    )


def opendental_managed(account: PortalAccount) -> bool:
    """The account is as the sync last wrote it (not created or changed here)."""
    return bool(account.od_digest) and _digest_of(account) == account.od_digest


# --- The documented CSV and raw `userweb` exports (SPEC C5, O7) ----------------------------


@dataclass
class ImportReport:
    imported: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)


def _patient(patnum: str) -> Patient | None:
    if not patnum.isdigit():
        return None
    return (
        Patient.objects.filter(od_pat_num=int(patnum)).first()
        or Patient.objects.filter(external_id=patnum).first()
    )


def _import_row(row: dict, actor: Actor, raw: bool) -> None:
    if raw and (row.get("FKeyType") or "").strip() != PATIENT_PORTAL:
        raise Refused(f"FKeyType {row.get('FKeyType')!r} is not a patient portal row (1).")
    patnum = (row.get("FKey" if raw else "PatNum") or "").strip()
    patient = _patient(patnum)
    if patient is None:
        raise Refused(f"No patient has PatNum {patnum or '(blank)'}.")
    username = (row.get("UserName") or "").strip()
    problems = username_problems(username)
    if problems:
        raise Refused(problems[0])
    if PortalAccount.objects.filter(patient=patient).exists():
        raise Refused(f"Patient {patnum} already has a portal account; row skipped.")
    if PortalAccount.objects.filter(username_folded=fold_username(username)).exists():
        raise Refused(f"The Online Username {username} already exists.")
    password = opendental_password(row.get("Password"))
    rename = opendental_flag(row.get("RequireUserNameChange"), "RequireUserNameChange")
    account = PortalAccount(
        patient=patient,
        username=username,
        password=password,
        require_username_change=rename,
        username_offer_pending=rename,
        require_password_change=opendental_flag(row.get("RequirePasswordChange"), "RequirePasswordChange"),
        last_login=opendental_last_login(row.get("DateTimeLastLogin")),
    )
    try:
        with transaction.atomic():
            account.save()
            audit_record(
                action="access_imported",
                actor=actor,
                patient_id=patient.pk,
                detail={"username": username, "source": "opendental", "access": is_password_usable(password)},
            )
    except IntegrityError:
        raise Refused(f"The Online Username {username} already exists.") from None


def _reader(lines: Iterable[str]) -> tuple[csv.DictReader, bool]:
    """A reader for either format; True when it is a raw `userweb` export.
    A tab in the first line means tab-separated (`mysql -B`, most SQL tools)."""
    lines = iter(lines)
    first = next(lines, "")
    tabs = "\t" in first
    options: dict[str, Any] = {"delimiter": "\t", "quoting": csv.QUOTE_NONE} if tabs else {}
    reader = csv.DictReader(_chain(first, lines), **options)
    names = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = names
    return reader, "FKey" in names and "PatNum" not in names


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def access_import_opendental(
    *, lines: Iterable[str], actor: Actor, progress: Callable[[int], object] | None = None
) -> ImportReport:
    """Import every good row of an exported `userweb` file; report the bad ones."""
    reader, raw = _reader(lines)
    needed = ("FKey", "FKeyType", "UserName", "Password") if raw else COLUMNS[:3]
    missing = [c for c in needed if c not in (reader.fieldnames or [])]
    report = ImportReport()
    if missing:
        report.problems.append(
            (
                1,
                f"Missing column(s): {', '.join(missing)}. Use Molar's CSV "
                "(PatNum,UserName,Password,...) or a raw userweb export.",
            )
        )
        return report
    for row in reader:
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        try:
            _import_row(row, actor, raw)
        except Refused as exc:
            report.problems.append((reader.line_num, str(exc)))
        else:
            report.imported += 1
        if progress:
            progress(reader.line_num)
    return report


# --- The sync (SPEC O2, O4) ----------------------------------------------------------------


@dataclass(frozen=True)
class OpenDentalAccount:
    """One `userweb` row for a patient, already in Molar's terms."""

    patient_id: int
    pat_num: int
    user_web_num: int
    username: str
    password: str
    require_password_change: bool
    require_username_change: bool
    last_login: datetime.datetime | None

    @property
    def digest(self) -> str:
        return account_digest(
            self.username, self.password, self.require_password_change, self.require_username_change
        )


@dataclass
class SyncAccountsResult:
    created: int = 0
    updated: int = 0
    removed: int = 0
    clashes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _clash(row: OpenDentalAccount) -> str:
    return (
        f"Open Dental username {row.username} (PatNum {row.pat_num}) is already used by "
        "another portal account in Molar; that account was left as it is."
    )


def access_sync_opendental(*, rows: list[OpenDentalAccount], actor: Actor) -> SyncAccountsResult:
    """Apply one batch of `userweb` rows: create missing accounts, update those the
    sync still manages, leave Molar's own alone, report username clashes."""
    result = SyncAccountsResult()
    # Plain values, not model objects: most rows of most passes are unchanged.
    existing = {
        patient_id: (pk, od_digest and od_digest == account_digest(name, hashed, *flags) and od_digest)
        for pk, patient_id, od_digest, name, hashed, *flags in PortalAccount.objects.filter(
            patient_id__in=[r.patient_id for r in rows]
        ).values_list(
            "pk",
            "patient_id",
            "od_digest",
            "username",
            "password",
            "require_password_change",
            "require_username_change",
        )
    }
    folded = {r.patient_id: fold_username(r.username) for r in rows}
    holders = dict(
        PortalAccount.objects.filter(username_folded__in=set(folded.values())).values_list(
            "username_folded", "patient_id"
        )
    )
    new = []
    for row in rows:
        name = folded[row.patient_id]
        if not row.username or len(row.username) > 64 or len(name) > 64:
            result.problems.append(
                f"Open Dental username {row.username[:70]!r} (PatNum "
                f"{row.pat_num}) is blank or longer than 64 characters."
            )
            continue
        if holders.setdefault(name, row.patient_id) != row.patient_id:
            result.clashes.append(_clash(row))
            continue
        pk, managed_digest = existing.get(row.patient_id, (None, ""))
        if pk is None:
            new.append(row)
        elif managed_digest and managed_digest != row.digest:  # managed here, changed there
            _update(PortalAccount.objects.select_related("patient").get(pk=pk), row, actor, result)
    _create(new, result)
    return result


def _new_account(row: OpenDentalAccount) -> PortalAccount:
    return PortalAccount(
        patient_id=row.patient_id,
        username=row.username,
        password=row.password,
        username_folded=fold_username(row.username),
        require_password_change=row.require_password_change,
        require_username_change=row.require_username_change,
        username_offer_pending=row.require_username_change,
        last_login=row.last_login,
        od_user_web_num=row.user_web_num,
        od_digest=row.digest,
    )


def _create(rows: list[OpenDentalAccount], result: SyncAccountsResult) -> None:
    try:
        with transaction.atomic():
            PortalAccount.objects.bulk_create([_new_account(row) for row in rows])
        result.created += len(rows)
        return
    except IntegrityError:
        pass  # a name or patient taken meanwhile: one at a time, to find which
    for row in rows:
        try:
            with transaction.atomic():
                _new_account(row).save()
            result.created += 1
        except IntegrityError:
            result.clashes.append(_clash(row))


def _update(account: PortalAccount, row: OpenDentalAccount, actor: Actor, result: SyncAccountsResult) -> None:
    """An account the sync manages, changed in Open Dental."""
    if account.has_access and not is_password_usable(row.password):
        try:  # SPEC A2 through the one door: audited, sessions end
            access_remove(patient=account.patient, actor=actor)
        except Refused:
            pass
        account.refresh_from_db()
        result.removed += 1
    elif is_password_usable(row.password):
        account.password = row.password  # a new hash ends the patient's sessions (SPEC L5)
        account.removed_at = None
    account.username = row.username
    account.require_password_change = row.require_password_change
    account.require_username_change = row.require_username_change
    account.username_offer_pending = row.require_username_change
    account.od_user_web_num = row.user_web_num
    account.od_digest = row.digest
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:
        result.clashes.append(_clash(row))
        return
    result.updated += 1


def access_remove_for_deleted(*, patient_ids: list[int], actor: Actor) -> int:
    """SPEC O3: patients deleted in Open Dental lose portal access, through
    `access_remove` (audited, sessions end). An account the sync managed
    stays managed, so a later grant in Open Dental is applied."""
    removed = 0
    accounts = (
        PortalAccount.objects.select_related("patient")
        .filter(patient_id__in=patient_ids)
        .filter(~Q(password__startswith=NO_ACCESS))
    )
    for account in accounts:
        managed = opendental_managed(account)
        try:
            access_remove(patient=account.patient, actor=actor)
        except Refused:
            continue
        removed += 1
        if managed:
            account.refresh_from_db()
            PortalAccount.objects.filter(pk=account.pk).update(od_digest=_digest_of(account))
    return removed
