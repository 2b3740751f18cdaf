"""Where a load test's CPU went: the web server's processes and PostgreSQL's
(read from /proc, Linux), and the load generator's (a child of this process,
from its resource usage once it has ended). Divided by the requests served,
it says what one request costs each of them, which explains a ratio that
wall-clock figures alone cannot."""

import os
import resource
from dataclasses import dataclass

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    """CPU seconds (user + system) used so far, per process for the server's
    and the database's (a process that ends between two readings must not
    count as negative work), in all for the ended children."""

    server: dict[int, float]
    database: dict[int, float]
    client: float


def _since(before: dict[int, float], after: dict[int, float]) -> float:
    """Work done between two readings by the processes alive at the second."""
    return sum(used - before.get(pid, 0.0) for pid, used in after.items())


def usage(server_session: int) -> Usage:
    """Of the processes in the server's session, of every `postgres` process,
    and of this process's children that have ended (the load generator)."""
    server: dict[int, float] = {}
    database: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat_file:
                stat = stat_file.read()
        except OSError:  # gone meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # After the name: state, ppid, pgrp, session, ..., utime (12th), stime (13th).
        used = (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND
        if int(fields[3]) == server_session:
            server[int(entry.name)] = used
        elif name == "postgres":
            database[int(entry.name)] = used
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Usage(server, database, children.ru_utime + children.ru_stime)


@dataclass(frozen=True)
class Cost:
    """Milliseconds of CPU per request."""

    server: float
    database: float
    client: float

    def describe(self, database: str | None) -> str:
        parts = [f"server {self.server:.2f} ms"]
        if database:
            parts.append(f"{database} {self.database:.2f} ms")
        return f"CPU per request: {', '.join(parts)}, wrk {self.client:.2f} ms"


def per_request(before: Usage, after: Usage, requests: int) -> Cost | None:
    if requests <= 0:
        return None
    scale = 1000.0 / requests
    return Cost(
        _since(before.server, after.server) * scale,
        _since(before.database, after.database) * scale,
        (after.client - before.client) * scale,
    )
