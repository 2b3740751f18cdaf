"""SPEC Q4: PostgreSQL connections have a connect timeout and a statement
timeout (DB_CONNECT_TIMEOUT, DB_STATEMENT_TIMEOUT_MS); SQLite a bounded busy
timeout. Settings are read in a fresh process with the environment given."""

import json
import subprocess
import sys

import pytest
from django.db import connection

# SPEC Q1: each hot query planned once per connection (see settings.py).
PREPARED = {"server_side_binding": True, "prepare_threshold": 5}
PRINT_OPTIONS = (
    "import json, molar.settings as s; print(json.dumps(s.DATABASES['default'].get('OPTIONS', {})))"
)


def options(tmp_path, **env) -> dict:
    environment = {"MOLAR_HOME": str(tmp_path), "SECRET_KEY": "test", "PATH": "/usr/bin:/bin", **env}
    done = subprocess.run(
        [sys.executable, "-c", PRINT_OPTIONS], env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_postgres_timeouts_default_to_5_seconds_and_30_seconds(tmp_path):
    found = options(tmp_path, DATABASE_URL="postgres://molar@db.example/molar")
    assert found == {"connect_timeout": 5, "options": "-c statement_timeout=30000", **PREPARED}


def test_postgres_timeouts_come_from_the_environment(tmp_path):
    found = options(
        tmp_path,
        DATABASE_URL="postgres://molar@db.example/molar",
        DB_CONNECT_TIMEOUT="2",
        DB_STATEMENT_TIMEOUT_MS="1500",
    )
    assert found == {"connect_timeout": 2, "options": "-c statement_timeout=1500", **PREPARED}


def test_prepared_statements_can_be_turned_off_for_a_pooler(tmp_path):
    found = options(tmp_path, DATABASE_URL="postgres://molar@db.example/molar", DB_PREPARED_STATEMENTS="0")
    assert found == {"connect_timeout": 5, "options": "-c statement_timeout=30000"}


def test_a_timeout_that_is_not_a_number_is_refused(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", PRINT_OPTIONS],
        capture_output=True,
        text=True,
        env={
            "MOLAR_HOME": str(tmp_path),
            "SECRET_KEY": "test",
            "DATABASE_URL": "postgres://molar@db.example/molar",
            "DB_STATEMENT_TIMEOUT_MS": "30s",
        },
        timeout=60,
    )
    assert done.returncode != 0
    assert "DB_STATEMENT_TIMEOUT_MS must be a whole number, not '30s'" in done.stderr


def test_sqlite_keeps_a_bounded_busy_timeout(tmp_path):
    found = options(tmp_path)
    assert found["timeout"] == 20 and found["transaction_mode"] == "IMMEDIATE"
    assert options(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3")["timeout"] == 20


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_connection_runs_with_the_statement_timeout():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("30s",)
    assert connection.settings_dict["OPTIONS"]["connect_timeout"] == 5


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_prepares_a_query_run_again_and_again(make_patient):
    """The sixth run of one query on a connection uses a prepared statement."""
    from molar.patients.models import Patient

    patient = make_patient()
    for _ in range(7):
        assert Patient.objects.filter(pk=patient.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%patients_patient%"]
        )
        assert cursor.fetchone()[0] >= 1
