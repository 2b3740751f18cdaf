"""A second PostgreSQL connection to the test database, beside Django's own:
for ending Django's session from outside, as a restart or failover would,
or for sending it a notification."""

import psycopg
from django.db import connection


def second_connection() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    )
