"""SPEC T4: the hash chain over sealed events.

The sealer gives each committed event the next `position` and stores
hash = SHA-256(previous hash + the event's canonical content). The content
includes the event's id, so changing a row breaks its own hash, deleting
one leaves a position pointing nowhere, and moving one breaks the order.
Someone able to rewrite the database could rebuild every hash after a
change: the signed checkpoints (checkpoints.py) catch that.

The canonical form is a stored format: changing it invalidates every seal."""

import datetime
import hashlib
import ipaddress
import json

GENESIS = "0" * 64
CONTENT_FIELDS = (
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


def _plain(value: object) -> object:
    """JSON as the database gives it back: PostgreSQL's jsonb returns a float
    such as 1e20 as the integer it equals, so integral floats hash as ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def canonical(row: dict) -> str:
    """The content of an event (a `.values(*CONTENT_FIELDS)` dict) as one string."""
    created_at = row["created_at"].astimezone(datetime.UTC).isoformat(timespec="microseconds")
    ip = row["client_ip"]
    content = [
        row["id"],
        created_at,
        row["actor_type"],
        row["actor_id"],
        row["actor_label"],
        row["patient_id"],
        row["action"],
        row["outcome"],
        str(ipaddress.ip_address(ip)) if ip else None,
        row["request_id"],
        _plain(row["detail"]),
    ]
    return json.dumps(content, sort_keys=True, separators=(",", ":"))


def link_hash(prev_hash: str, row: dict) -> str:
    return hashlib.sha256((prev_hash + canonical(row)).encode()).hexdigest()
