"""Adding, checking and removing second factors (SPEC K2), for staff users and
patients' portal accounts alike (`owner`). Every password-hasher call (the
recovery codes) runs before the short transaction that stores its result
(SPEC Q2). Throttling and the sign-in's own audit event belong to the
callers (staff and portal sign-in); changes are audited here."""

from typing import TYPE_CHECKING, Any, TypeAlias

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from molar.audit.services import Actor, audit_record
from molar.hashtime import spend_hash_time
from molar.refusal import Refused
from molar.secretbox import seal, unseal

from . import passkeys
from .models import RecoveryCode, SecondFactor
from .recovery import recovery_lookup, recovery_matches, recovery_new_codes
from .totp import totp_matching_step

if TYPE_CHECKING:  # the access app depends on this one, not the other way round
    from molar.access.models import PortalAccount

Owner: TypeAlias = "AbstractBaseUser | PortalAccount"
SECRET_PURPOSE = "factors.totp"  # noqa: S105 (a key-derivation label)
CODE_WRONG = _("That code is not right. Check the time on your phone and try again.")
NAME_MAX = 60


def _owned(owner: Owner) -> dict:
    return {"user": owner} if isinstance(owner, AbstractBaseUser) else {"account": owner}


def _patient_id(owner: Owner) -> int | None:
    return None if isinstance(owner, AbstractBaseUser) else owner.patient_id


def factors_of(owner: Owner) -> QuerySet[SecondFactor]:
    return SecondFactor.objects.filter(**_owned(owner))


def has_second_factor(owner: Owner) -> bool:
    return factors_of(owner).exists()


def recovery_codes_left(owner: Owner) -> int:
    return RecoveryCode.objects.filter(**_owned(owner), used_at=None).count()


def passkey_ids(owner: Owner) -> list[str]:
    return list(
        factors_of(owner).filter(kind=SecondFactor.Kind.PASSKEY).values_list("credential_id", flat=True)
    )


def _clean_name(name: str, default: str) -> str:
    return " ".join((name or "").split())[:NAME_MAX] or default


def _add(owner: Owner, actor: Actor, **fields: Any) -> list[str]:
    """Store the factor; the owner's first one also gets ten recovery codes,
    returned to show once (hashed here, before the transaction)."""
    made = [] if recovery_codes_left(owner) else recovery_new_codes()
    with transaction.atomic():
        factor = SecondFactor.objects.create(**_owned(owner), **fields)
        if made:
            _replace_codes(owner, made)
        audit_record(
            action="second_factor_added",
            actor=actor,
            patient_id=_patient_id(owner),
            detail={
                "kind": factor.kind,
                "name": factor.name,
                **({"recovery_codes": len(made)} if made else {}),
            },
        )
    return [shown for shown, _, _ in made]


def _replace_codes(owner: Owner, made: list[tuple[str, str, str]]) -> None:
    RecoveryCode.objects.filter(**_owned(owner)).delete()
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(**_owned(owner), lookup=lookup, hashed=hashed) for _, lookup, hashed in made]
    )


def factor_add_totp(*, owner: Owner, secret: str, code: str, name: str, actor: Actor) -> list[str]:
    """The code proves the app holds the secret. Returns new recovery codes (or [])."""
    step = totp_matching_step(secret, code, after=None)
    if step is None:
        raise Refused(fields={"code": [CODE_WRONG]})
    return _add(
        owner,
        actor,
        kind=SecondFactor.Kind.TOTP,
        secret=seal(secret, purpose=SECRET_PURPOSE),
        last_step=step,
        name=_clean_name(name, "Authenticator app"),
    )


def factor_add_passkey(
    *, owner: Owner, request: HttpRequest, rp: passkeys.RelyingParty, credential: str, name: str, actor: Actor
) -> list[str]:
    credential_id, public_key, sign_count = passkeys.verify_registration(request, rp, credential)
    if SecondFactor.objects.filter(credential_id=credential_id).exists():
        raise Refused([_("This passkey is already registered.")])
    return _add(
        owner,
        actor,
        kind=SecondFactor.Kind.PASSKEY,
        credential_id=credential_id,
        public_key=public_key,
        sign_count=sign_count,
        name=_clean_name(name, "Passkey"),
    )


def factor_check_code(owner: Owner, code: str) -> str | None:
    """ "totp" or "recovery_code" when `code` is a current authenticator code or
    an unused recovery code of the owner (now used up), else None."""
    digits = "".join((code or "").split())
    if digits.isdigit():
        return "totp" if _check_totp(owner, digits) else None
    return "recovery_code" if _check_recovery(owner, code) else None


def _check_totp(owner: Owner, code: str) -> bool:
    for factor in factors_of(owner).filter(kind=SecondFactor.Kind.TOTP):
        secret = unseal(factor.secret, purpose=SECRET_PURPOSE)
        step = totp_matching_step(secret, code, after=factor.last_step) if secret else None
        if step is not None:
            # Conditional: two requests racing with one code, only one wins.
            used = (
                SecondFactor.objects.filter(pk=factor.pk)
                .filter(Q(last_step__lt=step) | Q(last_step=None))
                .update(last_step=step, last_used_at=timezone.now())
            )
            return bool(used)
    return False


def _check_recovery(owner: Owner, code: str) -> bool:
    rows = list(RecoveryCode.objects.filter(**_owned(owner), used_at=None, lookup=recovery_lookup(code)))
    if not rows:
        spend_hash_time(code or "")  # one hash whatever happens (timing)
        return False
    for row in rows:
        if recovery_matches(code, row.hashed):
            return bool(RecoveryCode.objects.filter(pk=row.pk, used_at=None).update(used_at=timezone.now()))
    return False


def factor_check_passkey(
    owner: Owner, request: HttpRequest, rp: passkeys.RelyingParty, credential: str
) -> bool:
    factor = (
        factors_of(owner)
        .filter(kind=SecondFactor.Kind.PASSKEY, credential_id=passkeys.credential_id_of(credential))
        .first()
    )
    if factor is None:
        request.session.pop(passkeys.CHALLENGE_KEY, None)
        return False
    try:
        count = passkeys.verify_authentication(
            request, rp, credential, public_key=bytes(factor.public_key or b""), sign_count=factor.sign_count
        )
    except Refused:
        return False
    SecondFactor.objects.filter(pk=factor.pk).update(sign_count=count, last_used_at=timezone.now())
    return True


def factor_remove(*, owner: Owner, factor_id: int, actor: Actor) -> None:
    with transaction.atomic():
        factor = factors_of(owner).select_for_update().filter(pk=factor_id).first()
        if factor is None:
            raise Refused([_("That sign-in method no longer exists.")])
        factor.delete()
        if not factors_of(owner).exists():
            RecoveryCode.objects.filter(**_owned(owner)).delete()
        audit_record(
            action="second_factor_removed",
            actor=actor,
            patient_id=_patient_id(owner),
            detail={"kind": factor.kind, "name": factor.name},
        )


def factors_clear(*, owner: Owner, actor: Actor) -> int:
    """Staff clear a patient's (or a colleague's) factors and recovery codes,
    e.g. after a lost phone (SPEC K2). Returns how many factors there were."""
    with transaction.atomic():
        count, _ = factors_of(owner).delete()
        RecoveryCode.objects.filter(**_owned(owner)).delete()
        audit_record(
            action="second_factors_cleared",
            actor=actor,
            patient_id=_patient_id(owner),
            detail={"factors": count},
        )
    return count


def recovery_codes_renew(*, owner: Owner, actor: Actor) -> list[str]:
    if not has_second_factor(owner):
        raise Refused([_("Add an authenticator app or a passkey first.")])
    made = recovery_new_codes()
    with transaction.atomic():
        _replace_codes(owner, made)
        audit_record(
            action="recovery_codes_created",
            actor=actor,
            patient_id=_patient_id(owner),
            detail={"count": len(made)},
        )
    return [shown for shown, _, _ in made]
