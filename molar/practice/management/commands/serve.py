import os
import shutil
import sys

from django.core.management.base import BaseCommand, CommandError


def granian_args(host: str, port: int, workers: int, threads: int | None = None) -> list[str]:
    """Granian's WSGI server; `threads` Python threads per worker run requests
    (WEB_THREADS, default 4: pages wait on the database, so a few per core)."""
    threads = threads or int(os.environ.get("WEB_THREADS", "4"))
    here = os.path.dirname(sys.executable)  # the virtualenv's bin, even when not on PATH
    granian = shutil.which("granian", path=here) or shutil.which("granian")
    if granian is None:
        raise CommandError("granian is not installed; run `pip install granian`.")
    return [granian, "--interface", "wsgi", "--no-ws", "--host", host, "--port", str(port),
            "--workers", str(workers), "--blocking-threads", str(threads), "molar.wsgi:application"]


class Command(BaseCommand):
    help = "Serve Molar with granian (WSGI). Put a TLS proxy in front in production."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("MOLAR_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))

    def handle(self, *args, host, port, workers, **options):
        if not 0 < port < 65536:
            raise CommandError("--port must be between 1 and 65535.")
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        argv = granian_args(host, port, workers)
        sys.stdout.flush()
        os.execv(argv[0], argv)  # noqa: S606 -- fixed argv, no shell; granian replaces us
