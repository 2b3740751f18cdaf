"""Every change to portal credentials goes through here (SPEC sections 3-5).

Each public function changes the account in one short transaction with the
patient's row locked, so two staff acting on one patient at once end in one
consistent account (W9), and writes its audit event in that same
transaction. Password hashes are computed before that transaction begins
(SPEC Q2): a hash takes tens of milliseconds, and on SQLite a transaction
holds the database's only write lock. A refused action raises Refused
and leaves a `failure` audit row, written after the rollback."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import override

from molar.audit.context import current
from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record
from molar.hashtime import spend_hash_time
from molar.i18n import language_for
from molar.patients.eligibility import eligibility_problems
from molar.patients.models import Patient
from molar.patients.services import patient_lock
from molar.practice.models import PracticeSettings
from molar.refusal import Kind, Refused

from . import throttle
from .credentials import fold_username, generate_password, username_candidate
from .models import AccessEvent, PortalAccount
from .policy import normalize_password, password_problems
from .throttle import clear_username_locks

MSG_PORTAL_OFF = "Patient Portal is not enabled. Turn it on in eServices Setup."
MSG_URL_MISSING = (
    "Patient Facing URL is required to be set before granting online access. "
    "Click Setup to set the Patient Facing URL."
)
MSG_URL_MISSING_PRINT = (
    "Patient Facing URL is required to be set before printing. Click Setup to set the Patient Facing URL."
)
MSG_ALREADY = "Patient already has online access. Use Generate New for a new password."
MSG_PROVIDE_FIRST = "Please use the Provide Online Access button first."
MSG_NO_ACCESS = "Patient does not have online access."
MSG_USERNAME_BLANK = "Online Username cannot be blank."
MSG_USERNAME_TAKEN = "The Online Username already exists."
MSG_USERNAME_CHARS = "Online Username can contain only letters, digits and . _ - @"
MSG_USERNAME_LONG = "Online Username must be at most 64 characters."
MSG_USERNAME_EXHAUSTED = "Unable to create username for patient."
MSG_PASSWORD_REQUIRED = "Password required. Please generate a new password."  # noqa: S105
MSG_PASSWORD_MISMATCH = (
    "The password does not match the patient's current password. "  # noqa: S105
    "Please generate a new password."
)
MSG_NO_FACTORS = "The patient has no two-step sign-in to clear."
MSG_OWN_PASSWORD = (
    "The patient has set their own password, which is never printed. "  # noqa: S105
    "Use Generate New for a one-time password to print."
)
MSG_PRINT_LOCKED = (
    "Sign-in is locked for this patient after too many wrong passwords, so nothing "  # noqa: S105
    "is printed. Generate New gives a new one-time password and unlocks it."
)
USERNAME_ATTEMPTS = 1000


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str  # plaintext, for the one response that shows it
    patient_facing_url: str


@dataclass(frozen=True)
class PreparedPassword:
    """A one-time password and its hash, made before any transaction opens."""

    plain: str
    hashed: str


class _PasswordClash(Exception):
    """The prepared password contains the username it was not checked against
    (a brand-new one); vanishingly rare, and answered by preparing another."""


F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _audited(action: str) -> Callable[[F], F]:
    """On refusal, record the failure (after the rollback) and re-raise. The
    service opens its own short transaction(s)."""

    def decorator(func: F) -> F:
        @wraps(func)
        def wrapper(*, patient: Patient, actor: Actor, **kwargs: Any) -> Any:
            try:
                return func(patient=patient, actor=actor, **kwargs)
            except Refused as exc:
                audit_record(
                    action=action,
                    actor=actor,
                    patient_id=patient.pk,
                    outcome=AuditEvent.Outcome.FAILURE,
                    detail={"reasons": exc.messages},
                )
                raise

        return cast(F, wrapper)

    return decorator


def _lock(patient: Patient) -> tuple[Patient, PortalAccount | None]:
    patient = patient_lock(patient.pk)
    account = PortalAccount.objects.select_for_update().filter(patient=patient).first()
    return patient, account


def _require_portal_enabled(practice: PracticeSettings) -> None:
    if not practice.portal_enabled:
        raise Refused([MSG_PORTAL_OFF])


def _require_access(account: PortalAccount | None) -> PortalAccount:
    if account is None or not account.has_access:
        raise Refused([MSG_PROVIDE_FIRST], kind=Kind.CONFLICT)
    return account


def _set_one_time_password(account: PortalAccount, hashed: str, actor: Actor) -> None:
    # SPEC C2/W5: every password staff hand out is one-time. The new hash
    # ends the patient's portal sessions, which are bound to it (SPEC L5),
    # and voids any reset code; a new password also lifts locks (SPEC L6).
    account.password = hashed
    account.require_password_change = True
    account.password_set_at = timezone.now()
    account.reset_code_hash = ""
    account.reset_code_created_at = None
    account.removed_at = None
    clear_username_locks(account, actor)
    account.save()


def new_one_time_password(*, first_name: str, username: str = "") -> str:
    """A generated one-time password (SPEC C1) that the default ("seed") policy
    accepts: not common, no username or first name. It is 8 characters under
    either profile: it only opens the set-a-new-password page, and the
    patient's own password then follows the practice's profile."""
    while True:
        password = generate_password()
        if not password_problems(password, profile="seed", username=username, first_name=first_name):
            return password


def prepare_one_time_password(patient: Patient) -> PreparedPassword:
    """Generate and hash, outside any transaction (SPEC Q2). Checked against
    the username the patient has now; _check_prepared checks again under
    the lock, where the username is certain."""
    current = PortalAccount.objects.filter(patient=patient).values_list("username", flat=True).first()
    plain = new_one_time_password(first_name=patient.first_name, username=current or "")
    return PreparedPassword(plain, make_password(plain))


def _check_prepared(prepared: PreparedPassword, account: PortalAccount) -> None:
    if password_problems(
        prepared.plain, profile="seed", username=account.username, first_name=account.patient.first_name
    ):
        raise _PasswordClash


def _with_prepared(patient: Patient, action: Callable[[PreparedPassword], T]) -> T:
    """Run `action(prepared)` with a fresh prepared password, again with a
    new one in the (nearly impossible) case that it clashed with the username."""
    while True:
        try:
            return action(prepare_one_time_password(patient))
        except _PasswordClash:
            continue


def _create_account(patient: Patient) -> PortalAccount:
    """SPEC U1: try random usernames until one is free, at most 1,000 times."""
    for _ in range(USERNAME_ATTEMPTS):
        username = username_candidate(patient.first_name)
        if PortalAccount.objects.filter(username_folded=fold_username(username)).exists():
            continue
        try:
            with transaction.atomic():  # savepoint: a lost race costs one attempt
                return PortalAccount.objects.create(
                    patient=patient,
                    username=username,
                    password="!",  # noqa: S106 (unusable)
                )
        except IntegrityError:
            continue
    raise Refused([MSG_USERNAME_EXHAUSTED], kind=Kind.CONFLICT)


def _grant(
    patient: Patient,
    account: PortalAccount | None,
    actor: Actor,
    source: str,
    prepared: PreparedPassword,
    *,
    provided_now: bool = True,
) -> tuple[PortalAccount, bool]:
    """Create the account if needed and set the prepared one-time password; an
    `OnlineAccessProvided` event when the patient had no access (SPEC W1, I2),
    unless the credentials still have to reach them (SPEC I6)."""
    new_access = account is None or not account.has_access
    if account is None:
        account = _create_account(patient)
    account.patient = patient
    _check_prepared(prepared, account)
    _set_one_time_password(account, prepared.hashed, actor)
    if new_access and provided_now:
        AccessEvent.objects.create(
            patient=patient, kind=AccessEvent.Kind.ONLINE_ACCESS_PROVIDED, source=source
        )
    return account, new_access


def _require_ready(practice: PracticeSettings, patient: Patient) -> None:
    _require_portal_enabled(practice)
    if not practice.patient_facing_url:
        raise Refused([MSG_URL_MISSING])
    problems = eligibility_problems(patient, country=practice.country)
    if problems:
        raise Refused(problems)


@_audited("access_provided")
def access_provide(*, patient: Patient, actor: Actor, source: str = "window") -> Credentials:
    """SPEC W1: create (or reuse) the account and hand out a one-time password."""
    practice = PracticeSettings.load()
    _require_portal_enabled(practice)
    if not practice.patient_facing_url:
        raise Refused([MSG_URL_MISSING])
    current = PortalAccount.objects.filter(patient=patient).first()
    if current is not None and current.has_access:
        raise Refused([MSG_ALREADY], kind=Kind.CONFLICT)  # before hashing for nothing
    return _with_prepared(patient, lambda prepared: _provide(patient, actor, source, practice, prepared))


def _provide(
    patient: Patient, actor: Actor, source: str, practice: PracticeSettings, prepared: PreparedPassword
) -> Credentials:
    with transaction.atomic():
        patient, account = _lock(patient)
        if account is not None and account.has_access:
            raise Refused([MSG_ALREADY], kind=Kind.CONFLICT)
        _require_ready(practice, patient)
        account, _ = _grant(patient, account, actor, source, prepared)
        audit_record(
            action="access_provided",
            actor=actor,
            patient_id=patient.pk,
            detail={"username": account.username, "source": source},
        )
    return Credentials(account.username, prepared.plain, practice.patient_facing_url)


@_audited("credentials_issued")
def access_issue_one_time(*, patient: Patient, actor: Actor, source: str) -> Credentials | None:
    """SPEC I2/H1: credentials for an invite or a sheet. A patient with no access,
    or whose one-time password is still unchanged, gets a new one-time password
    (the old one stops working); a patient with their own password gets None."""
    practice = PracticeSettings.load()
    _require_ready(practice, patient)
    account = PortalAccount.objects.filter(patient=patient).first()
    if account is not None and account.has_access and not account.require_password_change:
        return None  # before hashing for nothing; checked again under the lock
    return _with_prepared(patient, lambda prepared: _issue(patient, actor, source, practice, prepared))


def _issue(
    patient: Patient, actor: Actor, source: str, practice: PracticeSettings, prepared: PreparedPassword
) -> Credentials | None:
    with transaction.atomic():
        patient, account = _lock(patient)
        _require_ready(practice, patient)
        if account is not None and account.has_access and not account.require_password_change:
            return None
        account, new_access = _grant(patient, account, actor, source, prepared)
        audit_record(
            action="credentials_issued",
            actor=actor,
            patient_id=patient.pk,
            detail={"username": account.username, "source": source, "new_access": new_access},
        )
    return Credentials(account.username, prepared.plain, practice.patient_facing_url)


@dataclass(frozen=True)
class Issued:
    """Credentials issued for an email (SPEC I6), and what they replaced."""

    credentials: Credentials
    account: PortalAccount
    hashed: str  # now on the account
    prior_hash: str  # what it replaced; "" when the patient had no access
    prior_one_time: bool
    new_access: bool


@_audited("credentials_issued")
def access_issue_for_delivery(*, patient: Patient, actor: Actor) -> Issued | None:
    """SPEC I2, I6: credentials for an invite email. Access counts as provided
    only once the mail server has taken the email (access_delivery_accepted);
    if it finally fails, access_delivery_failed puts back what was there.
    None for a patient with a password of their own (nothing secret goes
    out). Call it outside any transaction: it hashes first (SPEC Q2)."""
    practice = PracticeSettings.load()
    _require_ready(practice, patient)
    account = PortalAccount.objects.filter(patient=patient).first()
    if account is not None and account.has_access and not account.require_password_change:
        return None
    return _with_prepared(patient, lambda prepared: _issue_for_delivery(patient, actor, practice, prepared))


def _issue_for_delivery(
    patient: Patient, actor: Actor, practice: PracticeSettings, prepared: PreparedPassword
) -> Issued | None:
    with transaction.atomic():
        patient, account = _lock(patient)
        _require_ready(practice, patient)
        if account is not None and account.has_access and not account.require_password_change:
            return None
        had_access = account is not None and account.has_access
        prior = (account.password, account.require_password_change) if account and had_access else ("", False)
        account, new_access = _grant(patient, account, actor, "invite", prepared, provided_now=False)
        audit_record(
            action="credentials_issued",
            actor=actor,
            patient_id=patient.pk,
            detail={
                "username": account.username,
                "source": "invite",
                "new_access": new_access,
                "awaiting_delivery": True,
            },
        )
    credentials = Credentials(account.username, prepared.plain, practice.patient_facing_url)
    return Issued(credentials, account, prepared.hashed, prior[0], prior[1], new_access)


def access_delivery_accepted(*, patient_id: int, actor: Actor, new_access: bool, at: datetime) -> None:
    """SPEC I6: the mail server took the credentials: for a patient who had no
    access, that is when access was provided (the dashboard counts it)."""
    if new_access:
        AccessEvent.objects.create(
            patient_id=patient_id,
            kind=AccessEvent.Kind.ONLINE_ACCESS_PROVIDED,
            source="invite",
            created_at=at,
        )
        audit_record(
            action="access_provided", actor=actor, patient_id=patient_id, detail={"source": "invite"}
        )


def access_delivery_failed(
    *, patient_id: int, actor: Actor, issued_hash: str, prior_hash: str, prior_one_time: bool, reason: str
) -> bool:
    """SPEC I6: the email with credentials finally failed, so nobody has them:
    the account goes back to what it was (no access, or the one-time password
    sent before), unless something changed it since. True when voided."""
    with transaction.atomic():
        account = PortalAccount.objects.select_for_update().filter(patient_id=patient_id).first()
        if account is None or not issued_hash or account.password != issued_hash:
            return False
        if prior_hash:
            account.password, account.require_password_change = prior_hash, prior_one_time
        else:
            account.set_password(None)
            account.require_password_change = False
        account.save(update_fields=["password", "require_password_change", "updated_at"])
        audit_record(
            action="credentials_voided",
            actor=actor,
            patient_id=patient_id,
            detail={"reason": reason[:200], "access_kept": bool(prior_hash)},
        )
    return True


@_audited("access_removed")
def access_remove(*, patient: Patient, actor: Actor) -> None:
    """SPEC A2/W2: unusable password; the row and username stay; sessions end.
    (An unusable password is a random marker, not a hash: nothing slow here.)"""
    with transaction.atomic():
        patient, account = _lock(patient)
        if account is None or not account.has_access:
            raise Refused([MSG_NO_ACCESS], kind=Kind.CONFLICT)
        account.set_password(None)
        account.require_password_change = False
        account.removed_at = timezone.now()
        account.save()
        audit_record(action="access_removed", actor=actor, patient_id=patient.pk)


@_audited("password_generated")
def access_generate_password(*, patient: Patient, actor: Actor) -> str:
    """SPEC W3: a new one-time password; the old one and its sessions stop at once."""
    practice = PracticeSettings.load()
    _require_portal_enabled(practice)
    _require_access(PortalAccount.objects.filter(patient=patient).first())
    return _with_prepared(patient, lambda prepared: _regenerate(patient, actor, prepared))


def _regenerate(patient: Patient, actor: Actor, prepared: PreparedPassword) -> str:
    with transaction.atomic():
        patient, account = _lock(patient)
        account = _require_access(account)
        account.patient = patient
        _check_prepared(prepared, account)
        _set_one_time_password(account, prepared.hashed, actor)
        audit_record(action="password_generated", actor=actor, patient_id=patient.pk)
    return prepared.plain


@_audited("password_typed")
def access_set_password(*, patient: Patient, actor: Actor, password: str) -> None:
    """SPEC W5: staff type a password; it must pass the policy and is one-time."""
    practice = PracticeSettings.load()
    _require_portal_enabled(practice)
    password = normalize_password(password)  # SPEC K4: as it will be typed at sign-in
    account = _require_access(PortalAccount.objects.filter(patient=patient).first())
    _require_policy(password, practice, account.username, patient.first_name)
    hashed = make_password(password)  # before the transaction (SPEC Q2)
    with transaction.atomic():
        patient, locked = _lock(patient)
        account = _require_access(locked)
        _require_policy(password, practice, account.username, patient.first_name)  # renamed meanwhile?
        _set_one_time_password(account, hashed, actor)
        audit_record(action="password_typed", actor=actor, patient_id=patient.pk)


def _require_policy(password: str, practice: PracticeSettings, username: str, first_name: str) -> None:
    problems = password_problems(
        password,
        profile=practice.password_policy,
        username=username,
        first_name=first_name,
        practice_name=practice.practice_name,
    )
    if problems:
        raise Refused(problems)


def username_problems(username: str) -> list[str]:
    if not username:
        return [MSG_USERNAME_BLANK]
    if len(username) > 64 or len(fold_username(username)) > 64:
        return [MSG_USERNAME_LONG]
    if not all(c.isalnum() or c in "._-@" for c in username):
        return [MSG_USERNAME_CHARS]
    return []


@_audited("username_changed")
def access_rename(*, patient: Patient, actor: Actor, username: str) -> PortalAccount:
    """SPEC W6: a new username, unique in any letter case; a case-only change of
    one's own name is allowed."""
    username = (username or "").strip()
    problems = username_problems(username)
    if problems:
        raise Refused(problems)
    with transaction.atomic():
        patient, account = _lock(patient)
        if account is None:
            raise Refused([MSG_PROVIDE_FIRST], kind=Kind.CONFLICT)
        folded = fold_username(username)
        taken = PortalAccount.objects.filter(username_folded=folded).exclude(pk=account.pk)
        if taken.exists():
            raise Refused([MSG_USERNAME_TAKEN], kind=Kind.CONFLICT)
        old = account.username
        account.username = username
        try:
            with transaction.atomic():
                account.save()
        except IntegrityError:  # taken between our check and our write
            raise Refused([MSG_USERNAME_TAKEN], kind=Kind.CONFLICT) from None
        audit_record(
            action="username_changed",
            actor=actor,
            patient_id=patient.pk,
            detail={"from": old, "to": username},
        )
    return account


@_audited("printed")
def access_printout(*, patient: Patient, actor: Actor, password: str) -> bytes:
    """SPEC W7, K6: the credentials letter, only for the one-time password now
    outstanding. A password the patient chose is never printable (checking it
    would make this page a way to guess it), and a wrong password counts
    toward the patient's sign-in lock like a wrong sign-in (SPEC L6)."""
    from .printout import credentials_pdf

    practice = PracticeSettings.load()
    if not practice.patient_facing_url:
        raise Refused([MSG_URL_MISSING_PRINT])
    if not password:
        raise Refused([MSG_PASSWORD_REQUIRED])
    # No lock and no transaction around the hash or the PDF: both are slow,
    # and printing changes nothing but the trail (and the lock counts).
    account = _require_access(PortalAccount.objects.filter(patient=patient).first())
    if not account.require_password_change:
        raise Refused([MSG_OWN_PASSWORD])
    _check_printed_password(account, password)
    with override(language_for(patient)):  # SPEC V10: the patient's language
        pdf = credentials_pdf(
            practice=practice,
            username=account.username,
            password=password,
            url=practice.patient_facing_url,
        )
    audit_record(action="printed", actor=actor, patient_id=patient.pk)
    return pdf


def _check_printed_password(account: PortalAccount, password: str) -> None:
    now, address = timezone.now(), current.get().client_ip
    if throttle.paused(address, account.username_folded, account, now):
        spend_hash_time(password)
        raise Refused([MSG_PRINT_LOCKED])
    if not account.check_password(password):
        with transaction.atomic():
            account = PortalAccount.objects.select_for_update().get(pk=account.pk)
            throttle.record_failure(
                username=account.username, address=address, account=account, counted=True, now=now
            )
        raise Refused([MSG_PASSWORD_MISMATCH])


@_audited("second_factors_cleared")
def access_clear_factors(*, patient: Patient, actor: Actor) -> int:
    """SPEC K2: staff clear a patient's passkeys, authenticator apps and
    recovery codes (a lost phone), as they would Generate New; audited."""
    from molar.factors.services import factors_clear, has_second_factor

    account = PortalAccount.objects.filter(patient=patient).first()
    if account is None or not has_second_factor(account):
        raise Refused([MSG_NO_FACTORS], kind=Kind.CONFLICT)
    return factors_clear(owner=account, actor=actor)
