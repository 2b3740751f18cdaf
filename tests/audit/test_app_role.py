"""SPEC T6: scripts/postgres-app-role.sql (shown in the README) makes a role
that runs Molar but cannot change or remove audit records, triggers aside."""

import secrets
import subprocess

import psycopg
import pytest
from django.db import connection

from molar.audit.sealing import audit_seal
from molar.audit.services import Actor, audit_record

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def app_role():
    name, password = f"molar_app_{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    db = connection.settings_dict
    argv = [
        "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-v",
        f"app={name}",
        "-v",
        f"password='{password}'",
        "-h",
        db["HOST"] or "127.0.0.1",
        "-p",
        str(db["PORT"] or 5432),
        "-U",
        db["USER"],
        "-d",
        db["NAME"],
        "-f",
        "scripts/postgres-app-role.sql",
    ]
    subprocess.run(argv, check=True, capture_output=True, text=True)
    yield name, password
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{name}"')
        cursor.execute(f'DROP ROLE "{name}"')


def test_the_application_role_adds_and_reads_audit_records_but_cannot_change_them(app_role):
    audit_record(action="before", actor=Actor.system("t"))
    audit_seal()
    db = connection.settings_dict
    name, password = app_role
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=name,
        password=password,
        dbname=db["NAME"],
        autocommit=True,
    ) as app:
        app.execute(
            "INSERT INTO audit_auditevent (created_at, actor_type, actor_label, action, outcome, "
            "request_id, detail) VALUES (now(), 'system', 'x', 'by_app_role', 'success', '', '{}')"
        )
        assert app.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0] == 2
        app.execute("UPDATE audit_sealstate SET horizon = horizon")  # the sealer's bookkeeping: allowed
        for statement in (
            "UPDATE audit_auditevent SET action = 'x'",
            "DELETE FROM audit_auditevent",
            "TRUNCATE audit_auditseal",
            "DELETE FROM audit_auditcheckpoint",
            "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(statement)
