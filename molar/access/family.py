"""SPEC L8: whose data a signed-in person may see.

Themself, plus the patients whose guarantor they are (while the practice
allows it), whose responsible party they are, and to whom they have a
guardian link marked "is guardian". Archived, deceased and prospective
patients are never listed. Every portal page picks its subject from this set
and nowhere else, so changing an id in a URL cannot reach anyone outside it."""

import functools

from django.contrib.sessions.backends.base import SessionBase
from django.db import connection

from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.patients.changes import version_sql
from molar.patients.models import GuardianLink, Patient
from molar.practice.models import PracticeSettings
from molar.rows import Columns

from .models import PortalAccount

HIDDEN = (Patient.Status.ARCHIVED, Patient.Status.DECEASED, Patient.Status.PROSPECTIVE)
SUBJECT_KEY = "_portal_subject"
# The SQL below is made of these table names and fixed text (S608 marks it);
# every value is a query parameter.
PATIENTS, LINKS = Patient._meta.db_table, GuardianLink._meta.db_table


def family_flags_sql(me: str) -> str:
    """Two boolean columns for the query that loads the account anyway:
    whether patient `me` (an SQL expression) is anyone's guardian or
    responsible party, and whether anyone's guarantor. Each an EXISTS on an
    index; most patients represent nobody, and then no family query is
    needed (SPEC Q1)."""
    return (
        f"(EXISTS (SELECT 1 FROM {LINKS} fl WHERE fl.guardian_id = {me} AND fl.is_guardian)"  # noqa: S608
        f" OR EXISTS (SELECT 1 FROM {PATIENTS} fr WHERE fr.responsible_party_id = {me} AND fr.id <> {me})),"
        f" EXISTS (SELECT 1 FROM {PATIENTS} fg WHERE fg.guarantor_id = {me} AND fg.id <> {me})"
    )


@functools.cache
def _members_query(guarantor_access: bool) -> tuple[str, Columns[Patient]]:
    """The others `me` represents, with each one's page version, as one query
    whose parts each use an index (SPEC Q1): a UNION, because an OR across
    the guardian join makes PostgreSQL scan the whole patient table."""
    patient = Columns(Patient, "p")
    parts = [
        f"SELECT fl.patient_id FROM {LINKS} fl WHERE fl.guardian_id = %s AND fl.is_guardian",  # noqa: S608
        f"SELECT fr.id FROM {PATIENTS} fr WHERE fr.responsible_party_id = %s",  # noqa: S608
    ]
    if guarantor_access:
        parts.append(f"SELECT fg.id FROM {PATIENTS} fg WHERE fg.guarantor_id = %s")  # noqa: S608
    hidden = ", ".join("%s" for _ in HIDDEN)
    sql = (
        f"SELECT {patient.select}, {version_sql('p')} FROM {PATIENTS} p"  # noqa: S608
        f" WHERE p.id IN ({' UNION '.join(parts)}) AND p.id <> %s AND p.status NOT IN ({hidden})"
        " ORDER BY p.first_name, p.last_name, p.id"
    )
    return sql, patient


def family_members_query(patient_id: int, *, guarantor_access: bool) -> tuple[str, list]:
    sql, _ = _members_query(guarantor_access)
    return sql, [patient_id] * (sql.count("%s") - len(HIDDEN)) + list(HIDDEN)


def family_members(patient_id: int, *, guarantor_access: bool) -> list[Patient]:
    """The patients `patient_id` represents (not themself), sorted by name,
    each with `portal_version` set (see molar/portal/changes.py)."""
    sql, params = family_members_query(patient_id, guarantor_access=guarantor_access)
    _, columns = _members_query(guarantor_access)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    members = []
    for row in rows:
        member = columns.load(row[: columns.width])
        member.portal_version = row[columns.width]  # type: ignore[attr-defined]  # read with getattr
        members.append(member)
    return members


def represented_patients(account: PortalAccount, practice: PracticeSettings) -> list[Patient]:
    me = account.patient
    flags = (
        getattr(account, "represents_others", True),
        getattr(account, "guarantees_others", True) and practice.allow_guarantor_access,
    )
    if not any(flags):
        return [me]  # most patients represent nobody: no query at all
    return [me, *family_members(me.pk, guarantor_access=practice.allow_guarantor_access)]


def portal_actor(account: PortalAccount, subject: Patient) -> Actor:
    """A patient acting for themself, or a representative acting for `subject`."""
    if subject.pk == account.patient_id:
        return Actor.patient(account)
    return Actor(AuditEvent.ActorType.REPRESENTATIVE, account.patient_id, account.username)


def choose_subject(session: SessionBase, family: list[Patient]) -> Patient:
    wanted = session.get(SUBJECT_KEY)
    return next((p for p in family if p.pk == wanted), family[0])
