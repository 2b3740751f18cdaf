"""`molar serve` as a separate process on a free port of 127.0.0.1, stopped
whatever happens."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from bench import BenchError
from bench.client import HOST, TRANSPORT_ERRORS, Client

READY_SECONDS = 30.0
STOP_SECONDS = 10.0
# The port of each running server -> its session id (all its processes), for bench.cpu.
SESSIONS: dict[int, int] = {}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def log_tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@contextmanager
def molar_server(env: dict[str, str], *, workers: int, log_path: Path) -> Iterator[int]:
    """Start `molar serve`, wait until /healthz answers, yield the port."""
    molar = Path(sys.executable).with_name("molar")
    if not molar.exists():
        raise BenchError(f"{molar} is missing; run `make bench` (it installs Molar).")
    port = free_port()
    argv = [str(molar), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    with open(log_path, "wb") as log:
        # Its own session, so granian's worker processes can be stopped as one group.
        process = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        SESSIONS[port] = process.pid
        try:
            wait_until_ready(process, port)
            yield port
        except BenchError as exc:
            raise BenchError(f"{exc}\nlast lines of the server log:\n{log_tail(log_path)}") from None
        finally:
            SESSIONS.pop(port, None)
            stop(process)


def wait_until_ready(process: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"molar serve exited with {process.returncode}")
        client = Client(port)
        try:
            if client.request("GET", "/healthz").status == 200:
                return
        except TRANSPORT_ERRORS:
            pass
        finally:
            client.close()
        time.sleep(0.1)
    raise BenchError(f"molar serve did not answer /healthz within {READY_SECONDS:.0f} s")


def stop(process: subprocess.Popen) -> None:
    """Terminate, then kill; then make sure no worker of its group is left."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_SECONDS)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
