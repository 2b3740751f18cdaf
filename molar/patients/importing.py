"""SPEC P2: bulk import of patients from CSV (and, through `patients_import`, FHIR).

Every record is saved through `patient_create` / `patient_update`, so validation
and audit are the web's, each in its own savepoint: a bad record is reported by
line with the reason and rolled back alone, good ones are kept, nothing is
half-written. The external id matches records to patients, so a later import
updates instead of duplicating and a re-run of the same file changes nothing.

Files are streamed (a csv reader over the open file) and committed every
BATCH_ROWS records, so 100,000 rows import with flat memory. A dry run (the
staff page's preview) is the same code with every row's savepoint rolled back:
its counts are the real import's."""

import codecs
import csv
import datetime
import hashlib
import re
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DataError, IntegrityError, transaction

from molar.audit.services import Actor
from molar.refusal import Refused

from .models import Patient
from .services import patient_create, patient_update

BATCH_ROWS = 200
PROGRESS_ROWS = 1000
PREVIEW_ROWS = 20
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"

FIELD_ALIASES = {
    "first_name": ("first_name", "First Name", "FName", "First", "Given Name"),
    "middle_name": ("middle_name", "Middle Name", "MiddleI", "Middle", "Middle Initial"),
    "last_name": ("last_name", "Last Name", "LName", "Last", "Surname", "Family Name"),
    "preferred_name": ("preferred_name", "Preferred Name", "Preferred", "Nickname"),
    "address1": ("address1", "Address", "Address Line 1", "Street", "Street Address"),
    "address2": ("address2", "Address Line 2"),
    "city": ("city",),
    "state": ("state", "ST", "Province"),
    "zip": ("zip", "Zip Code", "Postal Code", "Postcode"),
    "birth_date": ("birth_date", "Birthdate", "DOB", "Date of Birth", "Birthday"),
    "home_phone": ("home_phone", "HmPhone", "Phone", "Home"),
    "wireless_phone": ("wireless_phone", "Mobile", "Mobile Phone", "Cell", "Cell Phone", "Wireless"),
    "work_phone": ("work_phone", "WkPhone", "Work"),
    "email": ("email", "Email Address", "E-mail"),
    "status": ("status", "PatStatus", "Patient Status"),
    "external_id": ("external_id", "PatNum", "Patient ID", "ID", "Patient Number", "MRN"),
}


def _header_key(name: str) -> str:
    return re.sub(r"[\s_.\-]+", "", name).casefold()


HEADERS = {_header_key(alias): name for name, aliases in FIELD_ALIASES.items() for alias in aliases}

# Our values and labels, plus Open Dental's PatStatus numbers (4, "Deleted", has no match).
STATUSES = {
    **{_header_key(value): value for value in Patient.Status.values},
    **{_header_key(label): value for value, label in Patient.Status.choices},
    "0": "patient",
    "1": "non_patient",
    "2": "inactive",
    "3": "archived",
    "5": "deceased",
    "6": "prospective",
}


@dataclass
class PreviewRow:
    where: str
    result: str
    patient: Patient


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    preview: list[PreviewRow] = field(default_factory=list)

    @property
    def saved(self) -> int:
        return self.created + self.updated + self.unchanged

    def text(self, unit: str = "row(s)") -> str:
        return (
            f"Imported: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.bad} bad {unit}."
        )


# (where, fields, problems): one record, its patient fields, and what is wrong with it.
Record = tuple[str, dict, list[str]]


class _SeenIds:
    """External ids saved in this run, so a second row with the same id is reported
    instead of flip-flopping the patient on every re-run. Kept as 64-bit hashes in
    an open-addressing table (8-16 bytes per id, not ~100 for a set of strings):
    memory stays flat. Two ids share a hash with odds near n²/2⁶⁵ (3e-10 at 100,000)."""

    def __init__(self):
        self._table, self._count = array("Q", bytes(8 * 1024)), 0

    @staticmethod
    def _hash(external_id: str) -> int:
        digest = hashlib.blake2b(external_id.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") or 1  # 0 marks an empty slot

    def _slot(self, table: array, value: int) -> int:
        mask = len(table) - 1
        slot = value & mask
        while table[slot] and table[slot] != value:
            slot = (slot + 1) & mask
        return slot

    def __contains__(self, external_id: str) -> bool:
        return bool(self._table[self._slot(self._table, self._hash(external_id))])

    def add(self, external_id: str) -> None:
        if 2 * (self._count + 1) > len(self._table):
            bigger = array("Q", bytes(16 * len(self._table)))
            for value in filter(None, self._table):
                bigger[self._slot(bigger, value)] = value
            self._table = bigger
        value = self._hash(external_id)
        slot = self._slot(self._table, value)
        self._count += not self._table[slot]
        self._table[slot] = value


def _save(fields: dict, actor: Actor) -> tuple[str, Patient]:
    try:
        before = Patient.objects.get(external_id=fields["external_id"])
    except Patient.DoesNotExist:
        return CREATED, patient_create(actor=actor, **fields)
    # patient_update saves and audits only when something differs.
    after = patient_update(patient=before, actor=actor, **fields)
    changed = any(getattr(after, name) != getattr(before, name) for name in fields)
    return (UPDATED if changed else UNCHANGED), after


def _drop_nul(fields: dict, problems: list[str]) -> None:
    """PostgreSQL cannot store a NUL character: a record with one is reported
    (SPEC X4), validated without it so its other problems show, and not saved."""
    for name, value in fields.items():
        if isinstance(value, str) and "\x00" in value:
            problems.append(f"{name}: contains a NUL character.")
            fields[name] = value.replace("\x00", "")


class _Importer:
    def __init__(self, *, actor: Actor, dry_run: bool, progress, on_problem, preview_rows: int):
        self.actor, self.dry_run, self.progress = actor, dry_run, progress
        self.on_problem, self.preview_rows = on_problem, preview_rows
        self.summary, self.seen = ImportSummary(), _SeenIds()

    def problem(self, where: str, message: str) -> None:
        self.summary.bad += 1
        if self.on_problem:
            self.on_problem(where, message)
        else:
            self.summary.problems.append((where, message))

    def record(self, where: str, fields: dict, problems: list[str]) -> None:
        self._record(where, fields, list(problems))
        done = self.summary.saved + self.summary.bad
        if self.progress and done % PROGRESS_ROWS == 0:
            self.progress(done)

    def _record(self, where: str, fields: dict, problems: list[str]) -> None:
        _drop_nul(fields, problems)
        external_id = fields.get("external_id")
        if external_id == "" or (external_id is None and not problems):
            problems.append("external_id: required; later imports find the patient by it.")
        elif external_id and external_id in self.seen:
            return self.problem(where, f"external_id: {external_id} appears earlier in this file; skipped.")
        if external_id:
            try:
                with transaction.atomic():
                    result, patient = _save(fields, self.actor)
                    # A row with a problem is still validated, then rolled back, so the
                    # report lists all its problems at once. A dry run rolls back every
                    # row: rows never depend on each other (duplicate ids are caught by
                    # `seen`, not by the database), so its counts are the real import's.
                    transaction.set_rollback(bool(problems) or self.dry_run)
            except Refused as exc:
                problems.extend(exc.messages)
            except IntegrityError:
                problems.append(
                    "external_id: another patient was given this id during the import; run the import again."
                )
            except DataError as exc:  # a value the database cannot store: this record only
                problems.append(f"cannot be stored ({str(exc).strip().splitlines()[0][:120]}).")
        if problems:
            return self.problem(where, " ".join(problems))
        self.seen.add(external_id)
        setattr(self.summary, result, getattr(self.summary, result) + 1)
        if len(self.summary.preview) < self.preview_rows:
            self.summary.preview.append(PreviewRow(where, result, patient))


def patients_import(
    records: Iterable[Record],
    *,
    actor: Actor,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    on_problem: Callable[[str, str], None] | None = None,
    preview_rows: int = 0,
) -> ImportSummary:
    """Save each record, or report it (to `on_problem`, else in `summary.problems`).
    `progress(n)` is called every PROGRESS_ROWS records."""
    importer = _Importer(
        actor=actor, dry_run=dry_run, progress=progress, on_problem=on_problem, preview_rows=preview_rows
    )
    records, done = iter(records), False
    while not done:
        done = True
        # Commit once per batch: a commit per row is slow (SQLite syncs the disk each
        # time), one for the whole file would hold the write and audit-chain locks
        # for minutes. A dry run commits nothing, so it needs no batch transaction.
        with nullcontext() if dry_run else transaction.atomic():
            for count, record in enumerate(records, 1):
                importer.record(*record)
                if count == BATCH_ROWS:
                    done = False
                    break
    return importer.summary


# --- CSV --------------------------------------------------------------------------------


def _date(text: str) -> datetime.date | None:
    if not text or text == "0001-01-01":  # Open Dental's "no birth date"
        return None
    for shape in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.datetime.strptime(text, shape).date()
        except ValueError:
            pass
    raise ValueError(f"“{text[:40]}” is not a date (YYYY-MM-DD or MM/DD/YYYY).")


def _status(text: str) -> str:
    try:
        return STATUSES[_header_key(text)]
    except KeyError:
        names = ", ".join(label.lower() for label in Patient.Status.labels)
        raise ValueError(f"“{text[:40]}” is not a status ({names}).") from None


def _fields(values: list[str], columns: list[tuple[int, str]]) -> tuple[dict, list[str]]:
    fields, problems = {}, []
    for index, name in columns:
        value = values[index].strip()
        if name == "status" and not value:
            continue  # a blank status keeps the patient's (or the default for a new one)
        elif name in ("birth_date", "status"):
            try:
                fields[name] = (_date if name == "birth_date" else _status)(value)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        else:
            fields[name] = value
    return fields, problems


def _columns(header: list[str] | None, summary_ignored: list[str]) -> list[tuple[int, str]]:
    if not header:
        raise Refused("The file is empty: the first line must name the columns.")
    columns, taken = [], {}
    for index, title in enumerate(header):
        name = HEADERS.get(_header_key(title))
        if name is None:
            summary_ignored.append(title.strip() or f"(column {index + 1} has no name)")
        elif name in taken:
            raise Refused(f"Columns “{taken[name]}” and “{title}” both hold {name}; keep one.")
        else:
            taken[name] = title
            columns.append((index, name))
    if "external_id" not in taken:
        raise Refused(
            "No external id column (external_id, PatNum, Patient ID or ID): "
            "later imports find patients by it."
        )
    return columns


def _csv_records(reader, width: int, columns: list[tuple[int, str]]) -> Iterator[Record]:
    while True:
        line = reader.line_num + 1  # where this record starts, even if a quoted value spans lines
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield f"line {line}", {}, [f"not readable as CSV ({exc})."]
            continue
        if not any(value.strip() for value in values):
            continue
        if len(values) != width:
            yield f"line {line}", {}, [f"has {len(values)} values; the header has {width} columns."]
            continue
        yield f"line {line}", *_fields(values, columns)


def _check_utf8(path: Path) -> None:
    """Read the whole file once, in chunks, so a bad byte refuses the file before
    any row is saved rather than in the middle."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except OSError as exc:
        raise Refused(f"Cannot read {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise Refused("The file is not UTF-8 text; save it as “CSV UTF-8” and import it again.") from None


def patients_import_csv(
    *,
    path: Path | str,
    actor: Actor,
    dry_run: bool = False,
    progress=None,
    on_problem=None,
    preview_rows: int = 0,
) -> ImportSummary:
    """Import a CSV file whose first line names the columns (any of FIELD_ALIASES,
    ignoring case, spaces and underscores). Raises Refused for the file as a whole (nothing imported)."""
    _check_utf8(Path(path))
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise Refused(f"The first line is not readable as CSV ({exc}).") from None
        ignored: list[str] = []
        columns = _columns(header, ignored)
        summary = patients_import(
            _csv_records(reader, len(header), columns),
            actor=actor,
            dry_run=dry_run,
            progress=progress,
            on_problem=on_problem,
            preview_rows=preview_rows,
        )
    summary.ignored_columns = ignored
    return summary
