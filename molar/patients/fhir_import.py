"""SPEC P2: import an R4 Bundle of Patient resources, validated with fhir.resources.

fhir.resources 8 defaults to R5; its R4B models read R4 Patient and Bundle
resources unchanged (they did not change between R4 and R4B). Entries are
validated one by one so one bad entry is reported by its index (`entry[2]`, as
in FHIRPath) while the others are saved like CSV rows (`patients_import`)."""

import datetime
import json
from collections.abc import Iterator
from pathlib import Path

from fhir.resources.R4B.bundle import Bundle, BundleEntry
from pydantic import ValidationError

from molar.refusal import Refused

from .importing import ImportSummary, Record, patients_import

MAX_BYTES = 100 * 1024 * 1024  # parsed whole: about 100,000 patients
MAX_DEPTH = 64  # a Patient with extensions nests about 10 levels
TOO_DEEP = object()
ONE_LINE = str.maketrans({"\r": "\\r", "\n": "\\n", "\t": "\\t"})
PHONE_FIELDS = {"home": "home_phone", "mobile": "wireless_phone", "work": "work_phone"}


def _reasons(exc: ValidationError, limit: int = 3) -> str:
    reasons = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(part) for part in error["loc"])
        reasons.append(f"{where}: {error['msg'].removeprefix('Value error, ').rstrip('.')}")
    # One line per bad entry: FHIR's patterns hold control characters (\r, \n, \t).
    return "; ".join(reasons).translate(ONE_LINE)


def _depth(data) -> int:
    """How deeply `data` nests, walked with a list, not recursion."""
    deepest, pending = 0, [(data, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                pending.extend(
                    (child, depth + 1) for child in (item.values() if isinstance(item, dict) else item)
                )
    return deepest


def _load(path: Path) -> list:
    """The Bundle's entries; the file as a whole is refused (SPEC X4) when it
    is not JSON, too large or too deeply nested to be a Bundle of patients."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise Refused(
                f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; "
                "split the Bundle into smaller files and import each one."
            )
        with open(path, encoding="utf-8-sig") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise Refused(f"Cannot read {path}: {exc.strerror}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refused(f"The file is not JSON ({exc}).") from None
    except RecursionError:
        data = TOO_DEEP  # nested deeper than the parser goes: refused just below
    if data is TOO_DEEP or _depth(data) > MAX_DEPTH:
        raise Refused(
            f"The file nests more than {MAX_DEPTH} levels deep; it is not a FHIR Bundle of patients."
        )
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise Refused("The file is not a FHIR Bundle: its resourceType must be “Bundle”.")
    entries = data.get("entry", [])
    try:
        # The Bundle without its entries: a bad entry is reported alone, below.
        Bundle.model_validate({key: value for key, value in data.items() if key != "entry"})
    except ValidationError as exc:
        raise Refused(f"The Bundle is not valid FHIR R4: {_reasons(exc)}.") from None
    if not isinstance(entries, list):
        raise Refused("The Bundle is not valid FHIR R4: entry must be a list.")
    return entries


def _name(patient) -> dict:
    names = patient.name or []
    name = next((n for n in names if n.use == "official"), names[0] if names else None)
    nickname = next((n for n in names if n.use == "nickname" and n.given), None)
    given = (name.given or []) if name else []
    return {
        "first_name": given[0] if given else "",
        "middle_name": " ".join(given[1:]),
        "last_name": (name.family or "") if name else "",
        "preferred_name": nickname.given[0] if nickname else "",
    }


def _contact(patient) -> dict:
    fields = {"home_phone": "", "wireless_phone": "", "work_phone": "", "email": ""}
    for point in patient.telecom or []:
        if point.system == "phone":
            name = PHONE_FIELDS.get(point.use or "home")
        else:
            name = "email" if point.system == "email" else None
        if name and not fields[name]:
            fields[name] = point.value or ""
    return fields


def _address(patient) -> dict:
    address = (patient.address or [None])[0]
    lines = (address.line or []) if address else []
    return {
        "address1": lines[0] if lines else "",
        "address2": ", ".join(lines[1:]),
        "city": (address.city or "") if address else "",
        "state": (address.state or "") if address else "",
        "zip": (address.postalCode or "") if address else "",
    }


def _fields(patient) -> tuple[dict, list[str]]:
    identifier = (patient.identifier or [None])[0]
    fields = {
        "external_id": (identifier.value if identifier and identifier.value else patient.id) or "",
        **_name(patient),
        **_address(patient),
        **_contact(patient),
    }
    problems = []
    birth = patient.birthDate
    if birth is None or isinstance(birth, datetime.date):
        fields["birth_date"] = birth
    else:
        problems.append(f"birthDate: {birth} is not a full date (YYYY-MM-DD).")
    if patient.deceasedBoolean or patient.deceasedDateTime:
        fields["status"] = "deceased"
    elif patient.active is False:
        fields["status"] = "inactive"
    return fields, problems


def _records(entries: list) -> Iterator[Record]:
    for index, entry in enumerate(entries):
        where = f"entry[{index}]"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if kind != "Patient":
            yield where, {}, [f"{kind or 'An entry without a resource'} is not a Patient; skipped."]
            continue
        try:
            patient = BundleEntry.model_validate(entry).resource
        except ValidationError as exc:
            yield where, {}, [f"not a valid FHIR R4 Patient: {_reasons(exc)}."]
            continue
        yield where, *_fields(patient)


def patients_import_fhir(
    *, path: Path | str, actor, dry_run: bool = False, progress=None, on_problem=None, preview_rows: int = 0
) -> ImportSummary:
    """Import the Patient entries of a FHIR R4 Bundle; raises Refused when
    the file is not a valid Bundle."""
    return patients_import(
        _records(_load(Path(path))),
        actor=actor,
        dry_run=dry_run,
        progress=progress,
        on_problem=on_problem,
        preview_rows=preview_rows,
    )
