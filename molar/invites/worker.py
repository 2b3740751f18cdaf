"""`molar worker`: scan for due invites every minute and send what is due,
until SIGTERM or SIGINT. Several workers, on several machines, may share one
PostgreSQL database: claims use row locks that other workers skip."""

import logging
import os
import signal
import socket
import threading
import time

from django.db import close_old_connections, connections

from .delivery import invites_recover, invites_scan, invites_send_due

logger = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def run_worker(*, scan_every: float = 60.0, idle_sleep: float = 5.0, batch: int = 50,
               stop: threading.Event | None = None) -> None:
    """Loop of "scan when due, then send one batch"; sleeps only when idle."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    name = worker_name()
    logger.info("Invite worker %s started", name)
    next_scan = 0.0
    try:
        _loop(name, stop, scan_every, idle_sleep, batch, next_scan)
    finally:
        connections.close_all()  # also when run in a thread
    logger.info("Invite worker %s stopped", name)


def _loop(name, stop, scan_every, idle_sleep, batch, next_scan) -> None:
    while not stop.is_set():
        try:
            next_scan = _turn(name, stop, scan_every, idle_sleep, batch, next_scan)
        except Exception:  # noqa: BLE001 - e.g. the database restarting: wait and go on
            logger.exception("Invite worker %s: a turn failed; trying again shortly", name)
            connections.close_all()
            stop.wait(idle_sleep)


def _turn(name, stop, scan_every, idle_sleep, batch, next_scan) -> float:
    """One scan (when due) and one batch; sleeps when there was nothing to do."""
    close_old_connections()
    if time.monotonic() >= next_scan:
        created, recovered = invites_scan(), invites_recover()
        if created or recovered:
            logger.info("Scan: %s new invite(s), %s interrupted", created, recovered)
        next_scan = time.monotonic() + scan_every
    summary = invites_send_due(worker=name, limit=batch)
    if summary.processed:
        logger.info("Sent %s, skipped %s, retrying %s, failed %s", summary.sent,
                    summary.skipped, summary.retried, summary.failed)
    else:
        stop.wait(max(0.05, min(idle_sleep, next_scan - time.monotonic())))
    return next_scan
