"""What changed in a patient's portal pages, kept by the database (SPEC Q1).

A portal tab is rendered once and served from memory while nothing it shows
has changed (molar/portal/page_cache.py). "Nothing changed" is answered by
triggers: every INSERT, UPDATE or DELETE of a row a tab shows (the patient,
appointments, ledger, statements, treatment plans, health summary, documents,
messages) inserts a PatientChange row for its patient, in the writer's own
transaction, whoever writes: the staff pages, the API, an import, the Open
Dental sync or a hand-run SQL statement. Only inserts, so no writer waits on
another (a counter row per patient would be a lock shared by all its writers).

A patient's version is the largest id among their committed rows. On
SQLite writers commit one at a time, so ids come in commit order and a
version names exactly one state of the record. On PostgreSQL a transaction
can take an id, then commit after a later id of the same patient was
committed and a page rendered for it; that page then lacks the earlier
transaction's change until it is PORTAL_PAGE_SECONDS (a minute) old, the
limit every kept page has anyway. (Counting rows would close that gap but
costs a scan of the patient's rows on every request.) Rows older than a day
are deleted by the worker; a version seen before that is long gone from
every cache."""

import datetime

from django.utils import timezone

# Table -> SQL giving the patient of the row (NEW or OLD stands for the row).
PATIENT_OF = {
    "patients_patient": "{row}.id",
    "patients_appointment": "{row}.patient_id",
    "records_ledgerentry": "{row}.patient_id",
    "records_statement": "{row}.patient_id",
    "records_treatmentplan": "{row}.patient_id",
    "records_problem": "{row}.patient_id",
    "records_medication": "{row}.patient_id",
    "records_allergy": "{row}.patient_id",
    "records_document": "{row}.patient_id",
    "messaging_thread": "{row}.patient_id",
    "records_plannedprocedure": "(SELECT patient_id FROM records_treatmentplan WHERE id = {row}.plan_id)",
    "messaging_message": "(SELECT patient_id FROM messaging_thread WHERE id = {row}.thread_id)",
}
VERBS = ("INSERT", "UPDATE", "DELETE")
KEEP = datetime.timedelta(days=1)


def _patient(table: str, row: str) -> str:
    return PATIENT_OF[table].format(row=row)


def _inserts(table: str, verb: str) -> str:
    """The trigger's body, the same SQL on both databases. SELECT ... WHERE:
    nothing is written when the patient is already gone (a planned procedure
    deleted after its plan); an UPDATE that moves a row to another patient
    changes both patients' pages."""
    rows = {"INSERT": ["NEW"], "DELETE": ["OLD"], "UPDATE": ["NEW", "OLD"]}[verb]
    statements = []
    for row in rows:
        patient = _patient(table, row)
        moved = (
            f" AND {patient} IS DISTINCT FROM {_patient(table, 'NEW')}"
            if row == "OLD" and verb == "UPDATE"
            else ""
        )
        insert = "INSERT INTO patients_patientchange (patient_id)"
        statements.append(f"{insert} SELECT {patient} WHERE {patient} IS NOT NULL{moved};")
    return " ".join(statements)


def _trigger(table: str, verb: str) -> str:
    return f"patient_change_{table}_{verb.lower()}"


def _postgresql_create() -> list[str]:
    statements = []
    for table in PATIENT_OF:
        for verb in VERBS:
            name = _trigger(table, verb)
            statements += [
                f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_inserts(table, verb)}
    RETURN NULL;
END $$""",
                f"CREATE TRIGGER {name} AFTER {verb} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
            ]
    return statements


def _sqlite_create() -> list[str]:
    return [
        f"CREATE TRIGGER {_trigger(table, verb)} AFTER {verb} ON {table} BEGIN {_inserts(table, verb)} END"
        for table in PATIENT_OF
        for verb in VERBS
    ]


def create_statements(vendor: str) -> list[str]:
    return {"postgresql": _postgresql_create, "sqlite": _sqlite_create}.get(vendor, list)()


def drop_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            statement
            for table in PATIENT_OF
            for verb in VERBS
            for statement in (
                f"DROP TRIGGER IF EXISTS {_trigger(table, verb)} ON {table}",
                f"DROP FUNCTION IF EXISTS {_trigger(table, verb)}()",
            )
        ]
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {_trigger(table, verb)}" for table in PATIENT_OF for verb in VERBS]
    return []


def patient_changes_prune() -> int:
    """Worker job: rows older than a day go (see the module's note)."""
    from .models import PatientChange

    deleted, _ = PatientChange.objects.filter(changed_at__lt=timezone.now() - KEEP).delete()
    return deleted


def version_sql(alias: str) -> str:
    """A patient's version as one SQL expression, for the queries that load
    the patient: an index-only look at one row of (patient_id, id)."""
    return f"(SELECT COALESCE(MAX(c.id), 0) FROM patients_patientchange c WHERE c.patient_id = {alias}.id)"  # noqa: S608
