"""SPEC T2: the hash chain that lets `molar audit verify` find the first
altered row.

Each event stores `prev_hash` (the hash of the row before it by id; 64 zeros
for the first) and `hash` = SHA-256(prev_hash + canonical content). Changing
a row breaks its own hash; deleting one breaks the next row's link. Someone
with write access to the database could rebuild the whole chain after a
change: comparing the newest hash with a copy kept elsewhere catches that.

The canonical form is a stored format: changing it invalidates every row."""

import datetime
import hashlib
import ipaddress
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .models import AuditEvent

GENESIS = "0" * 64
CONTENT_FIELDS = ("created_at", "actor_type", "actor_id", "actor_label", "patient_id", "action",
                  "outcome", "client_ip", "request_id", "detail")


def _plain(value):
    """JSON as the database gives it back: PostgreSQL's jsonb returns a float
    such as 1e20 as the integer it equals, so integral floats hash as ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def canonical(row) -> str:
    """The content of an event (a model or a `.values()` dict) as one string."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    created_at = get("created_at").astimezone(datetime.UTC).isoformat(timespec="microseconds")
    ip = get("client_ip")
    content = [created_at, get("actor_type"), get("actor_id"), get("actor_label"), get("patient_id"),
               get("action"), get("outcome"), str(ipaddress.ip_address(ip)) if ip else None,
               get("request_id"), _plain(get("detail"))]
    return json.dumps(content, sort_keys=True, separators=(",", ":"))


def event_hash(prev_hash: str, row) -> str:
    return hashlib.sha256((prev_hash + canonical(row)).encode()).hexdigest()


@dataclass(frozen=True)
class Verification:
    checked: int  # rows found intact before the first altered one
    altered: dict | None = None  # id, created_at, action of the first altered row


def _rows(chunk: int) -> Iterator[dict]:
    """Every event by id, a chunk at a time (keyset: no long transaction or
    server-side cursor, and constant memory)."""
    last = 0
    while True:
        rows = list(AuditEvent.objects.filter(id__gt=last).order_by("id")
                    .values("id", "prev_hash", "hash", *CONTENT_FIELDS)[:chunk])
        yield from rows
        if len(rows) < chunk:
            return
        last = rows[-1]["id"]


def chain_verify(*, chunk: int = 5000, progress: Callable[[int], None] | None = None) -> Verification:
    expected = GENESIS
    checked = 0
    for row in _rows(chunk):
        if row["prev_hash"] != expected or row["hash"] != event_hash(row["prev_hash"], row):
            return Verification(checked, row)
        expected = row["hash"]
        checked += 1
        if progress and checked % 100_000 == 0:
            progress(checked)
    return Verification(checked)
