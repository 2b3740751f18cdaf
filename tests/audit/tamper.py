"""What someone with the database superuser (or the file, for SQLite) can do
behind the application's back: get past the append-only triggers (SPEC T6)
to change, delete or rebuild the trail. The checks must still find it."""

from contextlib import contextmanager

from django.db import connection

from molar.audit.triggers import create_statements, drop_statements


@contextmanager
def past_the_triggers():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # superuser only
        else:
            for statement in drop_statements("sqlite"):
                cursor.execute(statement)
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
            else:
                for statement in create_statements("sqlite"):
                    cursor.execute(statement)
