"""CSV export of the audit report (SPEC T2), streamed row by row."""

import csv
import json
from collections.abc import Iterator

from django.db.models import QuerySet

from .models import AuditEvent

COLUMNS = ("id", "created_at", "actor_type", "actor_id", "actor_label", "patient_id", "action",
           "outcome", "client_ip", "request_id", "detail")
# A cell starting with one of these is a formula to a spreadsheet: a patient
# could type "=HYPERLINK(...)" as a username and have staff's Excel run it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True)
    elif hasattr(value, "isoformat"):
        value = value.isoformat()
    value = str(value)
    return f"'{value}" if value.startswith(FORMULA_START) else value


def csv_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    """The header, then one line per event (times in UTC), a chunk of rows
    fetched at a time so memory stays flat for any size."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for row in events.values_list(*COLUMNS).iterator(chunk_size=2000):
        yield writer.writerow([_cell(value) for value in row])
