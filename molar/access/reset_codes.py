"""Password-reset codes (SPEC L3), made when their email is sent: the outbox
worker asks for a code and its hash outside its claim transaction, then has
the account take the hash inside it, so the code exists only in the email."""

from datetime import datetime

from django.contrib.auth.hashers import make_password

from .credentials import generate_reset_code
from .models import PortalAccount


def access_reset_code_prepare() -> tuple[str, str]:
    """A new reset code and its hash, for the outbox to issue. Computed before
    the outbox's claim transaction: no hash under a database lock (SPEC Q2)."""
    code = generate_reset_code()
    return code, make_password(code)


def access_reset_code_issue(*, patient_id: int | None, code_hash: str, now: datetime) -> str:
    """Inside the outbox's claim: the account takes the hash of the code about
    to be mailed (an older code stops working; SPEC L3: valid 24 hours from
    now, single use). Returns why no code may go out any more, or ""."""
    if patient_id is None:
        return "no access"
    # The account row alone, as every patient-side write does: staff lock the
    # patient first, then the account, so holding the patient here as well
    # could close a cycle with a Generate New.
    account = (
        PortalAccount.objects.select_for_update(of=("self",))
        .select_related("patient")
        .filter(patient_id=patient_id)
        .first()
    )
    if account is None or not account.has_access:
        return "no access"
    if not account.patient.email:
        return "no email"
    account.reset_code_hash = code_hash
    account.reset_code_created_at = now
    account.reset_code_failures = 0
    account.save(
        update_fields=["reset_code_hash", "reset_code_created_at", "reset_code_failures", "updated_at"]
    )
    return ""
