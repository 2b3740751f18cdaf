"""SPEC L3, C4, Q2: the reset code is made when its email is sent and is
stored nowhere: not in the outbox row, not in any column of any table. Only
its hash sits on the account."""

import re

from django.contrib.auth.hashers import check_password
from django.db import connection

from molar.access.models import PortalAccount
from molar.access.services import access_provide
from molar.audit.services import Actor
from molar.outbox.models import RESET_CODE_SLOT, OutboxEmail
from tests.conftest import CsrfClient

CODE = re.compile(r"\b[A-Z2-9]{5}-[A-Z2-9]{5}\b")


def every_stored_value():
    """(table, value) for every column of every row of every table."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for record in cursor.fetchall():
                for value in record:
                    yield table, value


def holds(value, secret: str) -> bool:
    if isinstance(value, memoryview | bytes | bytearray):
        return secret.encode() in bytes(value)
    return isinstance(value, str) and secret in value


def test_reset_code_is_in_no_table_after_it_was_sent(smtp, practice, complete_patient, send_outbox):
    username = access_provide(patient=complete_patient, actor=Actor.system("test")).username
    CsrfClient().submit("/portal/forgot/", {"username": username})
    queued = OutboxEmail.objects.get(kind="reset_code")
    assert RESET_CODE_SLOT in queued.body and not CODE.search(queued.body)
    assert PortalAccount.objects.get().reset_code_hash == ""  # nothing issued before sending

    assert send_outbox().sent == 1

    [mail] = smtp.mails
    code = CODE.search(mail.body).group()
    assert check_password(code, PortalAccount.objects.get().reset_code_hash)
    values = list(every_stored_value())
    assert {table for table, _ in values} >= {
        "outbox_outboxemail",
        "access_portalaccount",
        "audit_auditevent",
    }
    for secret in (code, code.replace("-", ""), code.lower()):
        found = [table for table, value in values if holds(value, secret)]
        assert found == [], (secret, found)
