"""What patients do to their own credentials (SPEC L1-L6, U2, C2, C5).

Staff-side changes are in molar.access.services; these are the patient-side
ones. Every failure of sign-in or reset looks the same from outside: one
message, one password-hash computation, whatever the reason."""

from datetime import timedelta
from functools import cache

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from molar.access import throttle
from molar.access.credentials import fold_username, generate_reset_code, normalize_reset_code
from molar.access.models import PortalAccount, ResetEmail
from molar.access.policy import MAX_LENGTH, password_problems
from molar.access.services import access_rename
from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record
from molar.practice.models import PracticeSettings

from . import emails

SIGN_IN_FAILED = ("The user name or password is incorrect, or sign-in is paused for this "
                  "account. Try again later or call the practice.")
RESET_CODE_INVALID = "That code is not valid. Request a new code and try again."
ACTIVATION_INVALID = ("This link no longer works: it was used, is more than 7 days old, or the "
                      "practice issued a new password. Sign in or call the practice.")
RESET_CODE_LIFETIME = timedelta(hours=24)
RESET_CODE_MAX_FAILURES = 10
RESET_EMAILS_PER_HOUR = 5
FAILURE = AuditEvent.Outcome.FAILURE


class SignInFailed(Exception):
    message = SIGN_IN_FAILED


class PortalInvalid(Exception):
    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("; ".join(messages))


@cache
def _dummy_hash(hasher_names: tuple[str, ...]) -> str:
    return make_password("molar-timing-equalizer")


def _spend_hash_time(password: str) -> None:
    """Unknown user, no access or locked: verify against a dummy hash anyway, so
    the response takes as long as for a real account (SPEC L1)."""
    from django.conf import settings

    check_password(password, _dummy_hash(tuple(settings.PASSWORD_HASHERS)))


def _otp_expired(account: PortalAccount, practice: PracticeSettings, now) -> bool:
    """SPEC C2: the optional maximum age of a one-time password."""
    days = practice.otp_max_age_days
    return bool(account.require_password_change and days and account.password_set_at
                and now - account.password_set_at > timedelta(days=days))


def portal_sign_in(*, username: str, password: str, address: str | None) -> PortalAccount:
    """The account, or SignInFailed. Failures are counted and audited first."""
    now = timezone.now()
    username, password = (username or "").strip()[:200], (password or "")[:MAX_LENGTH + 1]
    with transaction.atomic():
        account = (PortalAccount.objects.select_for_update().select_related("patient")
                   .filter(username_folded=fold_username(username)).first())
        reason, counted = _sign_in_problem(account, username, password, address, now)
        if reason:
            throttle.record_failure(username=username, address=address, account=account,
                                    counted=counted, now=now)
            audit_record(action="sign_in", actor=Actor.anonymous(), outcome=FAILURE,
                         patient_id=account.patient_id if account else None,
                         # The typed name only when it is a real one: people
                         # type passwords into the username field.
                         detail={"reason": reason,
                                 **({"username": account.username} if account else {})})
        else:
            account.failed_attempts = 0
            account.last_login = now
            account.save(update_fields=["failed_attempts", "last_login"])
            audit_record(action="sign_in", actor=Actor.patient(account),
                         patient_id=account.patient_id)
    if reason:
        raise SignInFailed
    return account


def _sign_in_problem(account, username, password, address, now) -> tuple[str, bool]:
    """(reason, counted) for a refused sign-in, ("", False) for a good one."""
    if throttle.address_blocked(address, now):
        _spend_hash_time(password)
        return "address blocked", False
    if throttle.username_locked(fold_username(username)[:200], account, now):
        _spend_hash_time(password)
        return "locked", False
    if account is None or not account.has_access:
        _spend_hash_time(password)
        return ("unknown user" if account is None else "no access"), True

    def rehash(raw):  # SPEC C5: legacy Open Dental hashes become Argon2id
        account.set_password(raw)
        account.save(update_fields=["password"])

    if not check_password(password, account.password, setter=rehash):
        return "wrong password", True
    if _otp_expired(account, PracticeSettings.load(), now):
        return "one-time password expired", False
    return "", False


def portal_password_change(*, account: PortalAccount, new: str, confirm: str,
                           current: str | None = None) -> PortalAccount:
    """Set the patient's own password. `current` is required except right
    after signing in with a one-time password (SPEC L2, L4)."""
    with transaction.atomic():
        account = PortalAccount.objects.select_for_update().select_related("patient").get(
            pk=account.pk)
        problems = []
        if current is not None and not account.check_password(current):
            problems.append("The current password is not correct.")
        if new != confirm:
            problems.append("The new passwords do not match.")
        problems += password_problems(
            new, profile=PracticeSettings.load().password_policy,
            username=account.username, first_name=account.patient.first_name)
        if account.require_password_change and account.check_password(new):
            problems.append("Choose a password different from the one-time password.")
        if problems:
            audit_record(action="password_changed", actor=Actor.patient(account),
                         patient_id=account.patient_id, outcome=FAILURE,
                         detail={"reasons": problems})
            raise PortalInvalid(problems)
        first_time = account.require_password_change
        _set_own_password(account, new)
        account.username_offer_pending = first_time  # SPEC U2: offered once
        account.save()
        audit_record(action="password_changed", actor=Actor.patient(account),
                     patient_id=account.patient_id, detail={"first_sign_in": first_time})
    return account


def _set_own_password(account: PortalAccount, raw: str) -> None:
    account.set_password(raw)
    account.require_password_change = False
    account.password_set_at = timezone.now()
    account.reset_code_hash = ""
    account.reset_code_created_at = None


def portal_username_change(*, account: PortalAccount, username: str,
                           password: str | None = None) -> PortalAccount:
    """SPEC U2: at the one-time offer no password is asked; later it is."""
    if password is not None and not account.check_password(password):
        raise PortalInvalid(["The password is not correct."])
    from molar.access.services import AccessRefused

    try:
        account = access_rename(patient=account.patient, actor=Actor.patient(account),
                                username=username)
    except AccessRefused as exc:
        raise PortalInvalid(exc.messages) from None
    return portal_username_offer_done(account=account)


def portal_username_offer_done(*, account: PortalAccount) -> PortalAccount:
    # Open Dental's RequireUserNameChange (SPEC O2) is met by the same offer.
    PortalAccount.objects.filter(pk=account.pk).update(username_offer_pending=False,
                                                       require_username_change=False)
    account.username_offer_pending = account.require_username_change = False
    return account


def portal_reset_request(*, username: str) -> None:
    """SPEC L3: mail a code when the account exists, has access and an email.
    The caller shows the same page whatever happened here."""
    now = timezone.now()
    with transaction.atomic():
        account = (PortalAccount.objects.select_for_update().select_related("patient")
                   .filter(username_folded=fold_username((username or "").strip()[:200])).first())
        reason = _reset_refusal(account, now)
        if reason:
            audit_record(action="reset_requested", actor=Actor.anonymous(), outcome=FAILURE,
                         patient_id=account.patient_id if account else None,
                         detail={"reason": reason})
            return
        code = generate_reset_code()
        account.reset_code_hash = make_password(code)
        account.reset_code_created_at = now
        account.reset_code_failures = 0
        account.save()
        ResetEmail.objects.create(account=account, sent_at=now)
        audit_record(action="reset_requested", actor=Actor.patient(account),
                     patient_id=account.patient_id)
        transaction.on_commit(lambda: emails.send_reset_code(account, code))


def _reset_refusal(account: PortalAccount | None, now) -> str:
    if account is None:
        return "unknown user"
    if not account.has_access:
        return "no access"
    if not account.patient.email:
        return "no email"
    sent = ResetEmail.objects.filter(account=account, sent_at__gt=now - timedelta(hours=1))
    if sent.count() >= RESET_EMAILS_PER_HOUR:
        return "hourly limit"
    return ""


def portal_reset_complete(*, username: str, code: str, new: str, confirm: str) -> None:
    """SPEC L3: a good code sets the password, ends every session (the hash
    changes), mails a notice, and does not sign the patient in."""
    now = timezone.now()
    with transaction.atomic():
        account = (PortalAccount.objects.select_for_update().select_related("patient")
                   .filter(username_folded=fold_username((username or "").strip()[:200])).first())
        if not _reset_code_ok(account, code, now):
            if account is not None and account.reset_code_hash:
                account.reset_code_failures += 1
                if account.reset_code_failures >= RESET_CODE_MAX_FAILURES:
                    account.reset_code_hash = ""  # voided
                account.save()
            audit_record(action="reset_completed", actor=Actor.anonymous(), outcome=FAILURE,
                         patient_id=account.patient_id if account else None,
                         detail={"reason": "bad code"})
            failed = [RESET_CODE_INVALID]
        else:
            failed = _new_password_problems(account, new, confirm)
            if not failed:
                _set_own_password(account, new)
                account.save()
                audit_record(action="reset_completed", actor=Actor.patient(account),
                             patient_id=account.patient_id)
                transaction.on_commit(lambda: emails.send_password_changed(account))
    if failed:
        raise PortalInvalid(failed)


def _reset_code_ok(account: PortalAccount | None, code: str, now) -> bool:
    """One hash computation on every path, so the time taken tells nothing."""
    usable = bool(account is not None and account.reset_code_hash and account.has_access
                  and account.reset_code_created_at is not None
                  and now - account.reset_code_created_at <= RESET_CODE_LIFETIME)
    if not usable:
        _spend_hash_time(code or "")
        return False
    return check_password(normalize_reset_code(code), account.reset_code_hash)


def _new_password_problems(account: PortalAccount, new: str, confirm: str) -> list[str]:
    problems = [] if new == confirm else ["The new passwords do not match."]
    return problems + password_problems(
        new, profile=PracticeSettings.load().password_policy,
        username=account.username, first_name=account.patient.first_name)


def portal_activate(*, token: str, new: str, confirm: str) -> PortalAccount:
    """SPEC I2 [ActivationLink]: set the patient's own password through a
    single-use link; the caller then signs the patient in."""
    from molar.access.activation import activation_find

    with transaction.atomic():
        row = activation_find(token, lock=True)
        if row is None:
            raise PortalInvalid([ACTIVATION_INVALID])
        account = PortalAccount.objects.select_for_update().select_related("patient").get(
            pk=row.account_id)
        problems = _new_password_problems(account, new, confirm)
        if problems:
            raise PortalInvalid(problems)
        _set_own_password(account, new)
        account.username_offer_pending = True
        account.last_login = timezone.now()
        account.save()
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
        audit_record(action="activation_completed", actor=Actor.patient(account),
                     patient_id=account.patient_id)
    return account
