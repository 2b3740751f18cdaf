"""`molar worker`'s loop in a thread, for tests that let the real worker run."""

import itertools
import threading

from django.db import connections

from molar.ops.worker import run_worker

_numbers = itertools.count(1)


class RunningWorker:
    """with RunningWorker(): ... runs the loop until the block ends. Each has
    its own name (its claims and heartbeat say which thread it was);
    `on_start` runs in the thread first (e.g. a barrier)."""

    def __init__(
        self, *, idle_sleep: float = 0.05, batch: int = 10, scan_every: float = 3600.0, on_start=None
    ):
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.name = f"test-worker-{next(_numbers)}"
        self.on_start = on_start
        self.kwargs = dict(idle_sleep=idle_sleep, batch=batch, scan_every=scan_every, name=self.name)
        self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def _run(self):
        try:
            if self.on_start:
                self.on_start()
            run_worker(stop=self.stop, **self.kwargs)
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            self.errors.append(exc)
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the worker did not stop"
        assert not self.errors, self.errors
