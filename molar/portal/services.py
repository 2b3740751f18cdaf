"""What patients do to their own credentials (SPEC L1-L6, U2, C2, C5).

Staff-side changes are in molar.access.services; these are the patient-side
ones. Every failure of sign-in or reset looks the same from outside: one
message, one password-hash computation, whatever the reason."""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from molar.access import throttle
from molar.access.credentials import fold_username, normalize_reset_code
from molar.access.models import PortalAccount
from molar.access.policy import MAX_LENGTH, normalize_password, password_problems
from molar.access.services import (
    MSG_USERNAME_BLANK,
    MSG_USERNAME_CHARS,
    MSG_USERNAME_LONG,
    MSG_USERNAME_TAKEN,
    access_rename,
)
from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record
from molar.factors import passkeys
from molar.factors.models import SecondFactor
from molar.factors.services import factor_check_code, factor_check_passkey
from molar.hashtime import spend_hash_time
from molar.i18n import language_for
from molar.outbox.models import OutboxEmail
from molar.outbox.services import outbox_enqueue
from molar.patients.models import Patient
from molar.practice.models import PracticeSettings
from molar.refusal import Refused, Text
from molar.rows import Columns

from . import emails

SIGN_IN_FAILED = _(
    "The user name or password is incorrect, or sign-in is paused for this "
    "account. Try again later or call the practice."
)
RESET_CODE_INVALID = _("That code is not valid. Request a new code and try again.")
ACTIVATION_INVALID = _(
    "This link no longer works: it was used, is more than 7 days old, or the "
    "practice issued a new password. Sign in or call the practice."
)
PASSWORD_CHANGED_MEANWHILE = _(
    "Your password was changed by the practice a moment ago. "  # noqa: S105
    "Sign in again with the new one."
)
CURRENT_PASSWORD_WRONG = _("The current password is not correct.")  # noqa: S105
CURRENT_PASSWORD_LOCKED = _(
    "Too many wrong passwords: changes that need your password are paused "  # noqa: S105
    "for 15 minutes. Try again later or call the practice."
)
PASSWORD_NOT_CORRECT = _("The password is not correct.")  # noqa: S105
# SPEC V10: the staff page's words for a refused username, as a patient reads them.
USERNAME_WORDS = {
    MSG_USERNAME_BLANK: _("Enter a user name."),
    MSG_USERNAME_TAKEN: _("That user name is already taken. Choose another one."),
    MSG_USERNAME_CHARS: _("A user name can contain only letters, digits and . _ - @"),
    MSG_USERNAME_LONG: _("A user name can be at most 64 characters."),
}
RESET_CODE_LIFETIME = timedelta(hours=24)
RESET_CODE_MAX_FAILURES = 10
RESET_EMAILS_PER_HOUR = 5
# Why a reset request queued no code (its outbox row is `skipped` at once).
REFUSALS = ("unknown user", "no access", "no email", "hourly limit")
FAILURE = AuditEvent.Outcome.FAILURE


@dataclass(frozen=True)
class _Rehash:
    new: str  # the Argon2id replacement of a legacy hash that was just checked


class SignInFailed(Exception):
    message = SIGN_IN_FAILED


def _otp_expired(account: PortalAccount, practice: PracticeSettings, now: datetime) -> bool:
    """SPEC C2: the optional maximum age of a one-time password."""
    days = practice.otp_max_age_days
    return bool(
        account.require_password_change
        and days
        and account.password_set_at
        and now - account.password_set_at > timedelta(days=days)
    )


@functools.cache
def _sign_in_reads() -> tuple[str, str, Columns[PortalAccount], Columns[Patient]]:
    """The two reads of the account (with its patient) every sign-in makes,
    written once per process (SPEC Q1, molar/rows.py): by folded username
    before the hash, and again after it under a lock on the account row (not
    the patient's), with whether a second factor is set up (SPEC K2)."""
    account, patient = Columns(PortalAccount, "a"), Columns(Patient, "p")
    tables = f" FROM {PortalAccount._meta.db_table} a JOIN {Patient._meta.db_table} p ON p.id = a.patient_id"
    factor = f"EXISTS (SELECT 1 FROM {SecondFactor._meta.db_table} f WHERE f.account_id = a.id)"  # noqa: S608
    lock = " FOR UPDATE OF a" if connection.features.has_select_for_update_of else ""
    by_name = f"SELECT {account.select}, {patient.select}, NULL{tables} WHERE a.username_folded = %s"
    locked = f"SELECT {account.select}, {patient.select}, {factor}{tables} WHERE a.id = %s{lock}"
    return by_name, locked, account, patient


def _read_account(*, folded: str = "", pk: int | None = None) -> tuple[PortalAccount | None, bool]:
    """(the account with its patient, whether it has a second factor): by
    folded username (the second value then False, not asked), or by primary
    key under lock (inside a transaction)."""
    by_name, locked, columns, patient_columns = _sign_in_reads()
    with connection.cursor() as cursor:
        if pk is None:
            cursor.execute(by_name, [folded])
        else:
            cursor.execute(locked, [pk])
        row = cursor.fetchone()
    if row is None:
        return None, False
    account = columns.load(row[: columns.width])
    account.patient = patient_columns.load(row[columns.width : columns.width + patient_columns.width])
    return account, bool(row[-1])


def _locked_account(pk: int) -> PortalAccount:
    """The account with its patient, its row locked until the transaction
    ends (the patient's is not), or PortalAccount.DoesNotExist. Staff writes
    lock the patient, then the account (access/services.py); a patient-side
    write holding both would wait on staff while staff wait on it."""
    account, _ = _read_account(pk=pk)
    if account is None:
        raise PortalAccount.DoesNotExist(f"No portal account {pk}.")
    return account


def portal_sign_in(*, username: str, password: str, address: str | None) -> PortalAccount:
    """The account, or SignInFailed. Failures are counted and audited first.

    The password is checked before any transaction opens (SPEC Q2): on
    SQLite a transaction holds the only write lock, and a hash takes tens of
    milliseconds. The short transaction after it records the outcome."""
    now = timezone.now()
    username = (username or "").strip()[:200]
    password = normalize_password((password or "")[: MAX_LENGTH + 1])  # SPEC K4
    account, _ = _read_account(folded=fold_username(username))
    reason, counted, new_hash = _sign_in_problem(account, username, password, address, now)
    checked = account.password if account else ""
    with transaction.atomic():
        second_factor = False
        if account is not None:
            account, second_factor = _read_account(pk=account.pk)
        if not reason and account is not None and account.password != checked:  # Generate New while we hashed
            reason, counted = "password changed meanwhile", False
        if reason or account is None:  # no account (or removed while we hashed) always has a reason
            reason = reason or "unknown user"
            _record_sign_in_failure(account, username, address, reason, counted, now)
        elif second_factor:  # SPEC K2: signed in only after the second step
            _record_rehash(account, new_hash)
            account.second_step_due = True
        else:
            _record_sign_in(account, new_hash, now)
            account.second_step_due = False
    if reason or account is None:
        raise SignInFailed
    return account


def portal_second_factor(
    *,
    account: PortalAccount,
    address: str | None,
    code: str = "",
    request: HttpRequest,
    rp: passkeys.RelyingParty,
    credential: str = "",
) -> PortalAccount:
    """SPEC K2: the second step of a sign-in (an authenticator code, a recovery
    code or a passkey). Wrong answers count toward the same locks as wrong
    passwords (SPEC L6); while locked nothing is checked."""
    now = timezone.now()
    account = PortalAccount.objects.select_related("patient").get(pk=account.pk)
    if throttle.paused(address, account.username_folded, account, now):
        spend_hash_time(code)
        used, counted, reason = "", False, "locked"
    elif credential:
        used = "passkey" if factor_check_passkey(account, request, rp, credential) else ""
        counted, reason = True, "wrong second factor"
    else:
        used = factor_check_code(account, code[:100]) or ""
        counted, reason = True, "wrong second factor"
    with transaction.atomic():
        account = _locked_account(account.pk)
        if used:
            _record_sign_in(account, None, now, second_factor=used)
        else:
            _record_sign_in_failure(account, account.username, address, reason, counted, now)
    if not used:
        raise SignInFailed
    return account


def portal_current_password_ok(*, account: PortalAccount, password: str, address: str | None) -> bool:
    """SPEC K5: the current password, asked again on the profile page, is
    throttled like sign-in: a wrong one counts toward the username and
    address locks, and while locked it is not even checked."""
    now = timezone.now()
    password = normalize_password((password or "")[: MAX_LENGTH + 1])
    if throttle.paused(address, account.username_folded, account, now):
        spend_hash_time(password)
        raise Refused([CURRENT_PASSWORD_LOCKED])
    if account.check_password(password):
        return True
    with transaction.atomic():
        account = PortalAccount.objects.select_for_update().get(pk=account.pk)
        throttle.record_failure(
            username=account.username, address=address, account=account, counted=True, now=now
        )
    return False


def _record_rehash(account: PortalAccount, new_hash: _Rehash | None) -> None:
    if new_hash:  # SPEC C5: a legacy Open Dental hash becomes Argon2id
        account.password = new_hash.new
        account.save(update_fields=["password"])


def _record_sign_in_failure(
    account: PortalAccount | None,
    username: str,
    address: str | None,
    reason: str,
    counted: bool,
    now: datetime,
) -> None:
    throttle.record_failure(username=username, address=address, account=account, counted=counted, now=now)
    audit_record(
        action="sign_in",
        actor=Actor.anonymous(),
        outcome=FAILURE,
        patient_id=account.patient_id if account else None,
        # The typed name only when it is a real one: people
        # type passwords into the username field.
        detail={"reason": reason, **({"username": account.username} if account else {})},
    )


def _record_sign_in(
    account: PortalAccount, new_hash: _Rehash | None, now: datetime, second_factor: str = ""
) -> None:
    account.failed_attempts = 0
    account.last_login = now
    fields = ["failed_attempts", "last_login"]
    if new_hash:  # SPEC C5: a legacy Open Dental hash becomes Argon2id
        account.password = new_hash.new
        fields.append("password")
    account.save(update_fields=fields)
    audit_record(
        action="sign_in",
        actor=Actor.patient(account),
        patient_id=account.patient_id,
        detail={"second_factor": second_factor} if second_factor else None,
    )


def _sign_in_problem(
    account: PortalAccount | None, username: str, password: str, address: str | None, now: datetime
) -> tuple[str, bool, _Rehash | None]:
    """(reason, counted, rehash) for a refused sign-in, ("", False, rehash)
    for a good one; `rehash` holds a new hash when the stored one is legacy."""
    paused = throttle.paused(address, fold_username(username)[:200], account, now)
    if paused:  # "address blocked" or "locked": not counted, nothing checked
        spend_hash_time(password)
        return paused, False, None
    if account is None or not account.has_access:
        spend_hash_time(password)
        return ("unknown user" if account is None else "no access"), True, None
    stale = []
    if not check_password(password, account.password, setter=lambda raw: stale.append(raw)):
        return "wrong password", True, None
    rehash = _Rehash(make_password(password)) if stale else None
    if _otp_expired(account, PracticeSettings.cached(), now):
        return "one-time password expired", False, None
    return "", False, rehash


def portal_password_change(
    *, account: PortalAccount, new: str, confirm: str, current: str | None = None, address: str | None = None
) -> PortalAccount:
    """Set the patient's own password. `current` is required except right
    after signing in with a one-time password (SPEC L2, L4). Every hash is
    computed before the short transaction that stores the result (SPEC Q2);
    a refusal is audited on its own, not in a transaction that rolls back."""
    account = PortalAccount.objects.select_related("patient").get(pk=account.pk)
    checked = account.password
    new, confirm = normalize_password(new), normalize_password(confirm)  # SPEC K4
    problems = []
    try:
        if current is not None and not portal_current_password_ok(
            account=account, password=current, address=address
        ):
            problems.append(str(CURRENT_PASSWORD_WRONG))  # str: audited as JSON
    except Refused as exc:  # locked
        problems += exc.messages
    if new != confirm:
        problems.append("The new passwords do not match.")
    problems += _policy_problems(account, new)
    if account.require_password_change and account.check_password(new):
        problems.append("Choose a password different from the one-time password.")
    if problems:
        audit_record(
            action="password_changed",
            actor=Actor.patient(account),
            patient_id=account.patient_id,
            outcome=FAILURE,
            detail={"reasons": problems},
        )
        raise Refused(problems)
    hashed = make_password(new)
    with transaction.atomic():
        account = _locked_account(account.pk)
        if account.password != checked:  # staff acted meanwhile: their change stands
            raise Refused([PASSWORD_CHANGED_MEANWHILE])
        first_time = account.require_password_change
        _set_own_password(account, hashed)
        account.username_offer_pending = first_time  # SPEC U2: offered once
        account.save()
        audit_record(
            action="password_changed",
            actor=Actor.patient(account),
            patient_id=account.patient_id,
            detail={"first_sign_in": first_time},
        )
    return account


def _set_own_password(account: PortalAccount, hashed: str) -> None:
    account.password = hashed
    account.require_password_change = False
    account.password_set_at = timezone.now()
    account.reset_code_hash = ""
    account.reset_code_created_at = None


def portal_username_change(
    *, account: PortalAccount, username: str, password: str | None = None, address: str | None = None
) -> PortalAccount:
    """SPEC U2: at the one-time offer no password is asked; later it is (and
    throttled, SPEC K5)."""
    if password is not None and not portal_current_password_ok(
        account=account, password=password, address=address
    ):
        raise Refused([PASSWORD_NOT_CORRECT])
    try:
        account = access_rename(patient=account.patient, actor=Actor.patient(account), username=username)
    except Refused as exc:
        raise Refused([USERNAME_WORDS.get(m, m) for m in exc.messages]) from None
    return portal_username_offer_done(account=account)


def portal_username_offer_done(*, account: PortalAccount) -> PortalAccount:
    # Open Dental's RequireUserNameChange (SPEC O2) is met by the same offer.
    PortalAccount.objects.filter(pk=account.pk).update(
        username_offer_pending=False, require_username_change=False
    )
    account.username_offer_pending = account.require_username_change = False
    return account


def portal_reset_request(*, username: str) -> None:
    """SPEC L3, K3: queue a code email when the account exists, has access and
    an email (SPEC Q2: the worker sends it, and makes the code then). The
    caller shows the same page whatever happened here.

    K3: a known and an unknown username take the same work, so the time the
    request takes tells nothing. Neither path hashes anything or talks to a
    mail server (the code and its hash are made by the worker, when it
    sends). Both write the same rows: one audit event and one outbox row,
    `queued` when a code will go out, `skipped` with the reason otherwise
    (unknown user, no access, no email, hourly limit). The skipped row is
    never sent and names no address; it is pruned with the other finished
    rows after 30 days."""
    now = timezone.now()
    with transaction.atomic():
        # The account row alone (see _locked_account).
        account = (
            PortalAccount.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(username_folded=fold_username((username or "").strip()[:200]))
            .first()
        )
        subject, body = emails.reset_code_email(
            PracticeSettings.cached(), language_for(account.patient if account else None)
        )
        reason = _reset_refusal(account, now)
        patient_id = account.patient_id if account else None
        if reason or account is None:  # no account always has a reason
            audit_record(
                action="reset_requested",
                actor=Actor.anonymous(),
                outcome=FAILURE,
                patient_id=patient_id,
                detail={"reason": reason},
            )
        else:
            audit_record(action="reset_requested", actor=Actor.patient(account), patient_id=patient_id)
        outbox_enqueue(
            kind=OutboxEmail.Kind.RESET_CODE,
            to=account.patient.email if account and not reason else "",
            subject=subject,
            body=body,
            patient_id=patient_id,
            skipped=reason,
        )


def _reset_refusal(account: PortalAccount | None, now: datetime) -> str:
    if account is None:
        return "unknown user"
    if not account.has_access:
        return "no access"
    if not account.patient.email:
        return "no email"
    sent = OutboxEmail.objects.filter(
        kind=OutboxEmail.Kind.RESET_CODE,
        patient_id=account.patient_id,
        created_at__gt=now - timedelta(hours=1),
    ).exclude(status=OutboxEmail.Status.SKIPPED, reason__in=REFUSALS)
    if sent.count() >= RESET_EMAILS_PER_HOUR:
        return "hourly limit"
    return ""


def portal_reset_complete(*, username: str, code: str, new: str, confirm: str) -> None:
    """SPEC L3: a good code sets the password, ends every session (the hash
    changes), mails a notice, and does not sign the patient in. The code is
    checked and the new password hashed before the transaction (SPEC Q2)."""
    now = timezone.now()
    folded = fold_username((username or "").strip()[:200])
    account = PortalAccount.objects.select_related("patient").filter(username_folded=folded).first()
    code_hash = account.reset_code_hash if account else ""
    good = _reset_code_ok(account, code, now)
    new, confirm = normalize_password(new), normalize_password(confirm)  # SPEC K4
    failed: Sequence[Text] = (
        _new_password_problems(account, new, confirm) if good and account else [RESET_CODE_INVALID]
    )
    hashed = make_password(new) if not failed else ""
    with transaction.atomic():
        if account is not None:
            account = _locked_account(account.pk)
        if good and account and account.reset_code_hash != code_hash:  # used or replaced meanwhile
            good, failed = False, [RESET_CODE_INVALID]
        if not good or account is None:  # a good code always has an account
            _count_bad_code(account)
        elif not failed:
            _set_own_password(account, hashed)
            account.save()
            audit_record(
                action="reset_completed", actor=Actor.patient(account), patient_id=account.patient_id
            )
            _queue_password_changed(account)
    if failed:
        raise Refused(failed)


def _count_bad_code(account: PortalAccount | None) -> None:
    if account is not None and account.reset_code_hash:
        account.reset_code_failures += 1
        if account.reset_code_failures >= RESET_CODE_MAX_FAILURES:
            account.reset_code_hash = ""  # voided
        account.save()
    audit_record(
        action="reset_completed",
        actor=Actor.anonymous(),
        outcome=FAILURE,
        patient_id=account.patient_id if account else None,
        detail={"reason": "bad code"},
    )


def _queue_password_changed(account: PortalAccount) -> None:
    """SPEC L3: a completed reset mails a notice, in the reset's transaction (Q2)."""
    if account.patient.email:
        subject, body = emails.password_changed_email(PracticeSettings.load(), language_for(account.patient))
        outbox_enqueue(
            kind=OutboxEmail.Kind.PASSWORD_CHANGED,
            to=account.patient.email,
            subject=subject,
            body=body,
            patient_id=account.patient_id,
        )


def _reset_code_ok(account: PortalAccount | None, code: str, now: datetime) -> bool:
    """One hash computation on every path, so the time taken tells nothing."""
    usable = bool(
        account is not None
        and account.reset_code_hash
        and account.has_access
        and account.reset_code_created_at is not None
        and now - account.reset_code_created_at <= RESET_CODE_LIFETIME
    )
    if not usable or account is None:
        spend_hash_time(code or "")
        return False
    return check_password(normalize_reset_code(code), account.reset_code_hash)


def _new_password_problems(account: PortalAccount, new: str, confirm: str) -> Sequence[Text]:
    problems = [] if new == confirm else ["The new passwords do not match."]
    return problems + _policy_problems(account, new)


def _policy_problems(account: PortalAccount, new: str) -> list[str]:
    practice = PracticeSettings.load()
    return password_problems(
        new,
        profile=practice.password_policy,
        username=account.username,
        first_name=account.patient.first_name,
        practice_name=practice.practice_name,
    )


def portal_activate(*, token: str, new: str, confirm: str) -> PortalAccount:
    """SPEC I2 [ActivationLink]: set the patient's own password through a
    single-use link; the caller then signs the patient in. The new password
    is hashed before the transaction (SPEC Q2)."""
    from molar.access.activation import activation_find

    row = activation_find(token)
    if row is None:
        raise Refused([ACTIVATION_INVALID])
    account = PortalAccount.objects.select_related("patient").get(pk=row.account_id)
    new, confirm = normalize_password(new), normalize_password(confirm)  # SPEC K4
    problems = _new_password_problems(account, new, confirm)
    if problems:
        raise Refused(problems)
    hashed = make_password(new)
    with transaction.atomic():
        row = activation_find(token, lock=True)  # still unused, still bound to the same hash?
        if row is None:
            raise Refused([ACTIVATION_INVALID])
        account = _locked_account(row.account_id)
        _set_own_password(account, hashed)
        account.username_offer_pending = True
        account.last_login = timezone.now()
        account.save()
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
        audit_record(
            action="activation_completed", actor=Actor.patient(account), patient_id=account.patient_id
        )
    return account
