"""A sign-in half done: the password was right, a second factor (or, for staff
who must have one, enrolling one) is still to come (SPEC K2). Kept in the
server-side session, never as a signed-in session: the person is not signed
in until the second step succeeds. It lasts five minutes and dies if the
password changes meanwhile (bound to the hash, like portal sessions)."""

from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

PENDING_KEY = "_pending_sign_in"
PENDING_SECONDS = 300


def _binding(password_hash: str) -> str:
    return salted_hmac("molar.factors.pending", password_hash, algorithm="sha256").hexdigest()


def pending_start(
    request: HttpRequest, *, realm: str, owner_id: int, password_hash: str, **extra: object
) -> None:
    request.session.cycle_key()  # a new id once the password is known (fixation)
    request.session[PENDING_KEY] = {
        "realm": realm,
        "id": owner_id,
        "binding": _binding(password_hash),
        "at": timezone.now().timestamp(),
        **extra,
    }


def pending_get(request: HttpRequest, realm: str) -> dict | None:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("realm") != realm:
        return None
    if timezone.now().timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    return pending


def pending_matches(pending: dict, password_hash: str) -> bool:
    return constant_time_compare(pending.get("binding", ""), _binding(password_hash))


def pending_end(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)
