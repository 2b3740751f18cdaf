"""SPEC T5: signed checkpoints, exported as one JSON line, let `molar audit
verify --checkpoint FILE` find what the chain alone cannot: events removed
from the end, and a chain rebuilt by someone without AUDIT_SIGNING_KEY."""

import base64
import datetime
import json
import secrets

import pytest

from molar.audit.chain import CONTENT_FIELDS, GENESIS, link_hash
from molar.audit.models import AuditEvent, AuditSeal
from molar.audit.sealing import audit_seal
from molar.audit.services import Actor, audit_record
from molar.audit.signing import _private_key

from .tamper import past_the_triggers
from .test_chain import run, verify

DESK = Actor("staff", 7, "frontdesk")


@pytest.fixture
def exported(db, tmp_path):
    """Eight sealed events and their checkpoint, kept in a file as a practice
    would keep it (emailed to the owner, WORM storage)."""
    events = [audit_record(action=f"action_{n}", actor=DESK, patient_id=n, detail={"n": n}) for n in range(8)]
    audit_seal()
    code, line, _ = run("checkpoint")
    assert code == 0
    path = tmp_path / "checkpoint.json"
    path.write_text(line + "\n")
    return events, path


def test_checkpoint_prints_one_signed_json_line(exported):
    events, path = exported
    data = json.loads(path.read_text())
    assert set(data) == {"size", "root", "time", "key_id", "signature"}
    assert data["size"] == 8
    assert data["root"] == AuditSeal.objects.get(position=8).hash
    assert len(path.read_text().strip().splitlines()) == 1


def test_checkpoint_before_anything_is_sealed_says_so(db):
    assert run("checkpoint") == (
        1,
        "",
        "No checkpoint yet: nothing has been sealed (run `molar audit seal`).",
    )


def test_intact_trail_verifies_against_the_exported_checkpoint(exported):
    _, path = exported
    audit_record(action="after", actor=DESK)
    audit_seal()
    assert verify("--checkpoint", str(path)) == (0, "OK: 9 sealed events")


def test_changed_detail_is_named_even_with_a_checkpoint(exported):
    events, path = exported
    with past_the_triggers() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET detail = %s WHERE id = %s",
            [json.dumps({"n": "changed"}), events[4].pk],
        )
    code, output = verify("--checkpoint", str(path))
    assert code == 1
    assert output.startswith(f"Altered: event {events[4].pk} ") and output.endswith("at position 5.")


def _cut_after(cursor, position: int) -> None:
    """Delete every trace of the events after `position`: rows, seals, checkpoints."""
    cursor.execute(
        "DELETE FROM audit_auditevent WHERE id IN (SELECT event_id FROM audit_auditseal WHERE position > %s)",
        [position],
    )
    cursor.execute("DELETE FROM audit_auditseal WHERE position > %s", [position])
    cursor.execute("DELETE FROM audit_auditcheckpoint WHERE size > %s", [position])


def test_events_removed_from_the_end_are_found_with_the_exported_checkpoint(exported):
    """The attacker removes the last events with their seals and checkpoints;
    an earlier stored checkpoint still matches the shortened chain, so only
    the copy kept outside the database can tell that events are missing."""
    _, path = exported  # the kept copy says 8
    audit_record(action="ninth", actor=DESK)
    audit_seal()
    code, line, _ = run("checkpoint")
    path.write_text(line + "\n")  # the kept copy now says 9
    with past_the_triggers() as cursor:
        _cut_after(cursor, 8)
    assert verify() == (0, "OK: 8 sealed events")  # nothing inside the database can tell
    assert verify("--checkpoint", str(path)) == (
        1,
        "Missing: the exported checkpoint counts 9 sealed events but the chain has 8; "
        "events were removed from the end.",
    )


def test_events_removed_with_every_checkpoint_after_an_older_one_are_unsigned(exported):
    with past_the_triggers() as cursor:
        _cut_after(cursor, 5)
        cursor.execute("DELETE FROM audit_auditcheckpoint")
    assert verify() == (1, "Unsigned: 5 sealed event(s) after the last checkpoint; every seal records one.")


def test_chain_rebuilt_without_the_signing_key_is_caught(exported):
    events, path = exported
    attacker_key = base64.b64encode(secrets.token_bytes(32)).decode()
    with past_the_triggers() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_label = 'nobody' WHERE id = %s", [events[2].pk])
        _rebuild_chain(cursor)
    # The rebuilt chain is consistent in itself ...
    code, output = verify()
    assert code == 1
    assert (
        output == "Rebuilt: the chain's first 8 events do not hash to the stored checkpoint's "
        "signed root; events were changed and the chain recomputed."
    )
    # ... and forging the stored checkpoint with another key does not help.
    with past_the_triggers() as cursor:
        _forge_checkpoints(cursor, attacker_key)
    assert verify() == (1, "Forged: the stored checkpoint of 8 events has no valid signature.")
    code, output = verify("--checkpoint", str(path))
    assert code == 1 and output.startswith("Forged: the stored checkpoint")


def _rebuild_chain(cursor):
    prev = GENESIS
    for seal in AuditSeal.objects.order_by("position"):
        row = AuditEvent.objects.filter(pk=seal.event_id).values(*CONTENT_FIELDS).get()
        prev = link_hash(prev, row)
        cursor.execute("UPDATE audit_auditseal SET hash = %s WHERE position = %s", [prev, seal.position])


def _forge_checkpoints(cursor, key_text):
    from molar.audit.signing import SignedHead, key_id

    key = _private_key(key_text)
    root = AuditSeal.objects.get(position=8).hash
    head = SignedHead(8, root, "2026-11-26T10:00:00+00:00", key_id(key.public_key()), "")
    signature = base64.b64encode(key.sign(head.message())).decode()
    cursor.execute(
        "UPDATE audit_auditcheckpoint SET root = %s, key_id = %s, signature = %s, created_at = %s",
        [root, head.key_id, signature, datetime.datetime(2026, 11, 26, 10, tzinfo=datetime.UTC)],
    )


def test_a_checkpoint_file_that_is_not_one_is_refused_in_one_line(db, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("hello\n")
    assert run("verify", "--checkpoint", str(path)) == (
        1,
        "",
        f"{path}: not a checkpoint line from `molar audit checkpoint`",
    )
    assert run("verify", "--checkpoint", str(tmp_path / "none.json"))[2] == (
        f"Cannot read {tmp_path / 'none.json'}: No such file or directory"
    )
