"""Who holds a lease: the name a process writes into the rows it claims
(invites and emails being sent), so a row left `sending` says which host and
process took it. The worker and the one-shot invite commands both use it."""

import os
import socket


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]
