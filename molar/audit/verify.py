"""`molar audit verify`: walk the sealed chain and the signed checkpoints
(SPEC T2, T4, T5) and name the first problem.

What each check finds:
- a changed event: its seal's hash no longer matches its content;
- a deleted or moved event: a position with no event, a gap in positions;
- events removed from the end: a checkpoint (in the database or, better,
  one exported with `molar audit checkpoint`) counts more than the chain;
- a chain rebuilt after a change by someone without AUDIT_SIGNING_KEY: the
  rebuilt hashes no longer match the signed roots, and forged checkpoints
  fail their signature."""

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .chain import CONTENT_FIELDS, GENESIS, link_hash
from .models import AuditCheckpoint, AuditEvent, AuditSeal
from .signing import SignedHead, signature_ok


@dataclass
class Verification:
    checked: int = 0  # sealed events found intact
    problem: str = ""  # the first thing wrong, in words; "" when all is well
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problem


def _describe(row: dict) -> str:
    when = row["created_at"].astimezone(datetime.UTC).isoformat(timespec="seconds")
    return f"event {row['id']} ({when} {row['action']})"


def _seals(chunk: int) -> Iterator[tuple[AuditSeal, dict | None]]:
    """Seals by position with their events, a chunk at a time (keyset: no
    long transaction, constant memory)."""
    last = 0
    while True:
        seals = list(AuditSeal.objects.filter(position__gt=last).order_by("position")[:chunk])
        events = {
            row["id"]: row
            for row in AuditEvent.objects.filter(id__in=[s.event_id for s in seals]).values(*CONTENT_FIELDS)
        }
        for seal in seals:
            yield seal, events.get(seal.event_id)
        if len(seals) < chunk:
            return
        last = seals[-1].position


def _head(checkpoint: AuditCheckpoint) -> SignedHead:
    time = checkpoint.created_at.astimezone(datetime.UTC).isoformat(timespec="seconds")
    return SignedHead(checkpoint.size, checkpoint.root, time, checkpoint.key_id, checkpoint.signature)


def _heads() -> list[SignedHead]:
    return [_head(c) for c in AuditCheckpoint.objects.order_by("size", "id")]


def _chain_problem(seal: AuditSeal, row: dict | None, position: int, prev: str) -> str:
    if seal.position != position:
        return f"Missing: sealed events {position} to {seal.position - 1} are gone."
    if row is None:
        return f"Missing: event {seal.event_id} (sealed at position {position}) is gone."
    if seal.hash != link_hash(prev, row):
        return f"Altered: {_describe(row)} at position {position}."
    return ""


def _head_problem(head: SignedHead, where: str, roots: dict[int, str], size: int) -> str:
    if not signature_ok(head):
        return f"Forged: the {where} checkpoint of {head.size} events has no valid signature."
    if head.size > size:
        return (
            f"Missing: the {where} checkpoint counts {head.size} sealed events but the chain "
            f"has {size}; events were removed from the end."
        )
    if head.size and roots.get(head.size) != head.root:
        return (
            f"Rebuilt: the chain's first {head.size} events do not hash to the {where} "
            "checkpoint's signed root; events were changed and the chain recomputed."
        )
    return ""


def audit_verify(
    *, external: SignedHead | None = None, chunk: int = 5000, progress: Callable[[int], None] | None = None
) -> Verification:
    result = Verification()
    heads = _heads()
    wanted = {h.size for h in heads} | ({external.size} if external else set())
    roots: dict[int, str] = {}
    prev, position = GENESIS, 0
    for seal, row in _seals(chunk):
        position += 1
        result.problem = _chain_problem(seal, row, position, prev)
        if result.problem:
            return result
        prev = seal.hash
        if position in wanted:
            roots[position] = prev
        result.checked = position
        if progress and position % 100_000 == 0:
            progress(position)
    for head, where in [*((h, "stored") for h in heads), *([(external, "exported")] if external else [])]:
        result.problem = _head_problem(head, where, roots, position)
        if result.problem:
            return result
    signed = heads[-1].size if heads else 0
    if position > signed:
        result.problem = (
            f"Unsigned: {position - signed} sealed event(s) after the last "
            "checkpoint; every seal records one."
        )
    return result


def latest_head() -> SignedHead | None:
    """The newest stored checkpoint, for `molar audit checkpoint`."""
    checkpoint = AuditCheckpoint.objects.order_by("-size", "-id").first()
    return _head(checkpoint) if checkpoint else None
