"""SPEC L8: whose data a signed-in person may see.

Themself, plus the patients whose guarantor they are (while the practice
allows it), whose responsible party they are, and to whom they have a
guardian link marked "is guardian". Archived, deceased and prospective
patients are never listed. Every portal page picks its subject from this set
and nowhere else, so changing an id in a URL cannot reach anyone outside it."""

import functools
import json

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


def family_sql(me: str, *, guarantor_access: bool) -> str:
    """One column for the query that loads the account anyway: the others
    patient `me` (an SQL expression) represents, as a JSON array of
    [id, first name, last name], or NULL/[] for nobody. Each part of the
    UNION uses an index (an OR across the guardian join made PostgreSQL scan
    the whole patient table at 100,000 patients), and most patients represent
    nobody, which the indexes answer at once (SPEC Q1)."""
    parts = [
        f"SELECT fl.patient_id FROM {LINKS} fl WHERE fl.guardian_id = {me} AND fl.is_guardian",  # noqa: S608
        f"SELECT fr.id FROM {PATIENTS} fr WHERE fr.responsible_party_id = {me}",  # noqa: S608
    ]
    if guarantor_access:
        parts.append(f"SELECT fg.id FROM {PATIENTS} fg WHERE fg.guarantor_id = {me}")  # noqa: S608
    hidden = ", ".join(f"'{status}'" for status in HIDDEN)
    if connection.vendor == "postgresql":
        aggregate = "json_agg(json_build_array(m.id, m.first_name, m.last_name))"
    else:
        aggregate = "json_group_array(json_array(m.id, m.first_name, m.last_name))"
    return (
        f"(SELECT {aggregate} FROM {PATIENTS} m WHERE m.id IN ({' UNION '.join(parts)})"  # noqa: S608
        f" AND m.id <> {me} AND m.status NOT IN ({hidden}))"
    )


def family_from_column(value: str | list | None) -> list[Patient]:
    """The members from `family_sql`'s column, sorted by name: instances
    holding their id and names only (all the switcher shows); the one chosen
    as the subject is loaded whole by `patient_with_version`."""
    rows = json.loads(value) if isinstance(value, str) else (value or [])
    rows.sort(key=lambda row: (row[1], row[2], row[0]))
    using = connection.alias
    return [Patient.from_db(using, ["id", "first_name", "last_name"], row) for row in rows]


def family_members(patient_id: int, *, guarantor_access: bool) -> list[Patient]:
    """The patients `patient_id` represents (not themself), sorted by name."""
    family = family_sql("p.id", guarantor_access=guarantor_access)
    sql = f"SELECT {family} FROM {PATIENTS} p WHERE p.id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [patient_id])
        row = cursor.fetchone()
    return family_from_column(row[0] if row else None)


def represented_patients(account: PortalAccount, practice: PracticeSettings) -> list[Patient]:
    """[the account's patient, *the others they represent]. The portal's
    session loads the others with the account (`family` attribute, for the
    guarantor setting it was loaded under); any other caller asks here."""
    me = account.patient
    loaded = getattr(account, "family", None)
    if loaded is not None and loaded[0] == practice.allow_guarantor_access:
        return [me, *loaded[1]]
    return [me, *family_members(me.pk, guarantor_access=practice.allow_guarantor_access)]


@functools.cache
def _patient_query() -> tuple[str, Columns[Patient]]:
    patient = Columns(Patient, "p")
    return f"SELECT {patient.select}, {version_sql('p')} FROM {PATIENTS} p WHERE p.id = %s", patient  # noqa: S608


def patient_with_version(patient_id: int) -> Patient:
    """A family member chosen as the subject, whole, with `portal_version`
    (molar/patients/changes.py)."""
    sql, columns = _patient_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, [patient_id])
        row = cursor.fetchone()
    patient = columns.load(row[: columns.width])
    patient.portal_version = row[columns.width]  # type: ignore[attr-defined]  # read with getattr
    return patient


def portal_actor(account: PortalAccount, subject: Patient) -> Actor:
    """A patient acting for themself, or a representative acting for `subject`."""
    if subject.pk == account.patient_id:
        return Actor.patient(account)
    return Actor(AuditEvent.ActorType.REPRESENTATIVE, account.patient_id, account.username)


def choose_subject(session: SessionBase, family: list[Patient]) -> Patient:
    wanted = session.get(SUBJECT_KEY)
    return next((p for p in family if p.pk == wanted), family[0])
