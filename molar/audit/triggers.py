"""SPEC T6: the database itself refuses UPDATE, DELETE and TRUNCATE on the
audit tables, whoever asks (the owner included; a PostgreSQL superuser can
still switch triggers off, which is what the checkpoints are for). Created
by migration 0003; the statements live here so that tests can name them.

On PostgreSQL a BEFORE INSERT trigger also stamps each event with its
transaction's id, so the application cannot choose it (see sealing.py)."""

APPEND_ONLY_TABLES = ("audit_auditevent", "audit_auditseal", "audit_auditcheckpoint")
MESSAGE = "audit records are append-only"

POSTGRESQL_CREATE = [
    f"""CREATE OR REPLACE FUNCTION molar_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}: % on % refused', TG_OP, TG_TABLE_NAME;
END $$""",
    """CREATE OR REPLACE FUNCTION molar_audit_stamp_txid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.txid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END $$""",
    """CREATE TRIGGER audit_event_txid BEFORE INSERT ON audit_auditevent
       FOR EACH ROW EXECUTE FUNCTION molar_audit_stamp_txid()""",
]
for _table in APPEND_ONLY_TABLES:
    POSTGRESQL_CREATE += [
        f"""CREATE TRIGGER {_table}_no_change BEFORE UPDATE OR DELETE ON {_table}
            FOR EACH ROW EXECUTE FUNCTION molar_audit_refuse()""",
        f"""CREATE TRIGGER {_table}_no_truncate BEFORE TRUNCATE ON {_table}
            FOR EACH STATEMENT EXECUTE FUNCTION molar_audit_refuse()""",
    ]

POSTGRESQL_DROP = [
    *(f"DROP TRIGGER IF EXISTS {t}_no_change ON {t}" for t in APPEND_ONLY_TABLES),
    *(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}" for t in APPEND_ONLY_TABLES),
    "DROP TRIGGER IF EXISTS audit_event_txid ON audit_auditevent",
    "DROP FUNCTION IF EXISTS molar_audit_refuse()",
    "DROP FUNCTION IF EXISTS molar_audit_stamp_txid()",
]

# SQLite has no TRUNCATE: "DELETE FROM t" is its truncate, and a DELETE
# trigger turns that optimization off, so the trigger fires for it too.
SQLITE_CREATE = [
    f"""CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
    for table in APPEND_ONLY_TABLES
    for verb in ("UPDATE", "DELETE")
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {table}_no_{verb.lower()}"
    for table in APPEND_ONLY_TABLES
    for verb in ("UPDATE", "DELETE")
]


def create_statements(vendor: str) -> list[str]:
    return {"postgresql": POSTGRESQL_CREATE, "sqlite": SQLITE_CREATE}.get(vendor, [])


def drop_statements(vendor: str) -> list[str]:
    return {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}.get(vendor, [])
