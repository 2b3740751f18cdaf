import os
import shutil
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from molar.env import env_int, env_str


def _env_int(name: str, default: int) -> int:
    """An integer from the environment, or one line naming the variable."""
    try:
        return env_int(name, default)
    except ImproperlyConfigured as exc:
        raise CommandError(f"{exc}.") from None


def granian_args(host: str, port: int, workers: int, threads: int | None = None) -> list[str]:
    """Granian's WSGI server; `threads` Python threads per worker run requests
    (WEB_THREADS, default 4: pages wait on the database, so a few per core)."""
    threads = threads or _env_int("WEB_THREADS", 4)
    if threads < 1:
        raise CommandError("WEB_THREADS must be at least 1.")
    here = os.path.dirname(sys.executable)  # the virtualenv's bin, even when not on PATH
    granian = shutil.which("granian", path=here) or shutil.which("granian")
    if granian is None:
        raise CommandError("granian is not installed; run `pip install granian`.")
    return [
        granian,
        "--interface",
        "wsgi",
        "--no-ws",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "molar.wsgi:application",
    ]


class Command(BaseCommand):
    help = "Serve Molar with granian (WSGI). Put a TLS proxy in front in production."

    def add_arguments(self, parser):
        # Environment defaults are read in handle(), where a bad value becomes
        # one line on standard error instead of a traceback.
        parser.add_argument("--host", help="default: MOLAR_HOST, else 127.0.0.1")
        parser.add_argument("--port", type=int, help="default: PORT, else 8000")
        parser.add_argument("--workers", type=int, help="default: WEB_WORKERS, else 2")

    def handle(self, *args, host, port, workers, **options):
        host = host or env_str("MOLAR_HOST", "127.0.0.1")
        port = _env_int("PORT", 8000) if port is None else port
        workers = _env_int("WEB_WORKERS", 2) if workers is None else workers
        if not 0 < port < 65536:
            raise CommandError("--port (or PORT) must be between 1 and 65535.")
        if workers < 1:
            raise CommandError("--workers (or WEB_WORKERS) must be at least 1.")
        argv = granian_args(host, port, workers)
        sys.stdout.flush()
        os.execv(argv[0], argv)  # noqa: S606 -- fixed argv, no shell; granian replaces us
