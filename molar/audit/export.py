"""CSV export of the audit report (SPEC T2), streamed row by row."""

from collections.abc import Iterator

from django.db.models import QuerySet

from molar.spreadsheets import csv_stream

from .models import AuditEvent

COLUMNS = (
    "id",
    "created_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "patient_id",
    "action",
    "outcome",
    "client_ip",
    "request_id",
    "detail",
)


def csv_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    """The header, then one line per event (times in UTC), a chunk of rows
    fetched at a time so memory stays flat for any size."""
    return csv_stream(COLUMNS, events.values_list(*COLUMNS).iterator(chunk_size=2000))
