"""CSV for spreadsheets (the audit report, the dashboard export).

A cell starting with one of FORMULA_START is a formula to a spreadsheet: a
patient could type "=HYPERLINK(...)" as a name and have staff's Excel run it,
so such cells get a leading quote."""

import csv
import json
from collections.abc import Iterable, Iterator

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file that hands back what is written, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def safe_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True)
    elif hasattr(value, "isoformat"):
        value = value.isoformat()
    value = str(value)
    return f"'{value}" if value.startswith(FORMULA_START) else value


def csv_stream(header: Iterable[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """CSV lines, one at a time, every cell made safe."""
    writer = csv.writer(_Echo())
    yield writer.writerow(list(header))
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])
