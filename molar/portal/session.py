"""Binding a portal session to the account's current password hash (SPEC L5).

The session keeps an HMAC of the account's password hash. When staff generate
a new password, remove access, or the patient changes or resets the password,
the hash changes and every session bound to the old one stops at the next
request: a copied cookie dies with it. Sign-out deletes the session row (or
moves staff data in the same browser to a new one)."""

import functools

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from molar.access.family import family_from_column, family_sql
from molar.access.models import PortalAccount
from molar.patients.changes import version_sql
from molar.patients.models import Patient
from molar.practice.models import PracticeSettings
from molar.rows import Columns

ACCOUNT_KEY = "_portal_account"
BINDING_KEY = "_portal_binding"
STARTED_KEY = "_portal_started"
# SPEC V4: a browser cookie (no data in it) saying a portal session was open,
# so a request after the session ran out can say why it is asked to sign in.
SIGNED_IN_COOKIE = "molar_portal_was_signed_in"


def _binding(account: PortalAccount) -> str:
    return salted_hmac("molar.portal.session", account.password, algorithm="sha256").hexdigest()


def _forget(request: HttpRequest) -> None:
    for key in (ACCOUNT_KEY, BINDING_KEY, STARTED_KEY):
        request.session.pop(key, None)


def portal_session_start(request: HttpRequest, account: PortalAccount) -> None:
    # A new session id (the old row is deleted) defeats session fixation. Only
    # the portal's own keys are replaced: staff signed in to the staff pages
    # in the same browser stay signed in there.
    _forget(request)
    request.session.cycle_key()
    request.session[ACCOUNT_KEY] = account.pk
    request.session[BINDING_KEY] = _binding(account)
    request.session[STARTED_KEY] = timezone.now().timestamp()


def portal_session_rebind(request: HttpRequest, account: PortalAccount) -> None:
    """After the patient changes their own password: keep this session only."""
    request.session.cycle_key()
    request.session[BINDING_KEY] = _binding(account)


@functools.cache
def _account_query(guarantor_access: bool) -> tuple[str, Columns[PortalAccount], Columns[Patient]]:
    """The account, its patient with the version of their pages, and the
    others that patient represents (SPEC L8), in one query written once per
    process (SPEC Q1, molar/rows.py)."""
    account, patient = Columns(PortalAccount, "a"), Columns(Patient, "p")
    family = family_sql("a.patient_id", guarantor_access=guarantor_access)
    sql = (
        f"SELECT {account.select}, {patient.select}, {version_sql('p')}, {family}"  # noqa: S608
        f" FROM {PortalAccount._meta.db_table} a JOIN {Patient._meta.db_table} p ON p.id = a.patient_id"
        " WHERE a.id = %s"
    )
    return sql, account, patient


def _load_account(account_id: int) -> PortalAccount | None:
    guarantor_access = PracticeSettings.cached().allow_guarantor_access
    sql, columns, patient_columns = _account_query(guarantor_access)
    with connection.cursor() as cursor:
        cursor.execute(sql, [account_id])
        row = cursor.fetchone()
    if row is None:
        return None
    account = columns.load(row[: columns.width])
    patient = patient_columns.load(row[columns.width : columns.width + patient_columns.width])
    version, family = row[columns.width + patient_columns.width :]
    patient.portal_version = version  # type: ignore[attr-defined]  # read with getattr
    account.patient = patient
    # Read by represented_patients, for the guarantor setting it was loaded under.
    account.family = (guarantor_access, family_from_column(family))  # type: ignore[attr-defined]
    return account


def portal_session_account(request: HttpRequest) -> PortalAccount | None:
    """The signed-in account, or None (and the portal part of the session
    ended) when the binding no longer matches, access was removed, or the
    12-hour limit has passed."""
    account_id = request.session.get(ACCOUNT_KEY)
    if account_id is None:
        return None
    account = _load_account(account_id)
    started = request.session.get(STARTED_KEY, 0)
    too_old = timezone.now().timestamp() - started > settings.PORTAL_SESSION_MAX_SECONDS
    if (
        account is None
        or not account.has_access
        or too_old
        or not constant_time_compare(request.session.get(BINDING_KEY, ""), _binding(account))
    ):
        portal_session_end(request)
        return None
    return account


def portal_session_end(request: HttpRequest) -> None:
    """Sign out of the portal: the session id changes (a copied cookie stops
    working) and, with no staff sign-in left in it, the session is deleted."""
    _forget(request)
    if request.session.is_empty() or set(request.session.keys()) <= {"_messages"}:
        request.session.flush()
    else:
        request.session.cycle_key()
