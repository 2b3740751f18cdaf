"""The loop invites and outbox emails share (outbox.sending.send_due): one
connection, one row at a time, until none is due or the limit is reached."""

from molar.outbox.sending import send_due


def _rows(due: int):
    connections, calls = set(), []

    def send_next(*, worker, connection, summary, now):
        connections.add(id(connection))
        calls.append(worker)
        if len(calls) > due:
            return False
        summary.sent += 1
        return True

    return send_next, connections, calls


def test_sends_until_none_is_due_over_one_connection():
    send_next, connections, calls = _rows(due=3)
    seen = []
    summary = send_due(send_next, worker="w", limit=None, now=None, progress=lambda s: seen.append(s.sent))
    assert summary.sent == 3 and seen == [1, 2, 3]
    assert len(calls) == 4 and len(connections) == 1


def test_stops_at_the_limit():
    send_next, _, calls = _rows(due=10)
    assert send_due(send_next, worker="w", limit=2, now=None, progress=None).sent == 2
    assert len(calls) == 2
