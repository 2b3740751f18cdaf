import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from molar.audit.services import Actor
from molar.demo.loader import demo_load
from molar.practice.management.commands.serve import granian_args
from molar.staffauth.accounts import staff_add


class Command(BaseCommand):
    help = (
        "Set up the demo practice (SQLite under MOLAR_HOME) and run the web server and the "
        "worker (invites, email, periodic jobs)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="load data and exit")

    def handle(self, *args: Any, port: int, no_serve: bool, **options: Any) -> None:
        if not 0 < port < 65536:
            raise CommandError("--port must be between 1 and 65535.")
        call_command("migrate", interactive=False, verbosity=0)
        demo_load(port=port)
        front = staff_add(username="frontdesk", admin=False, actor=Actor.cli("demo"))
        admin = staff_add(username="admin", admin=True, actor=Actor.cli("demo"))
        base = f"http://127.0.0.1:{port}"
        mail = (
            ""
            if settings.EMAIL_BACKEND.endswith("smtp.EmailBackend")
            else f"  Email outbox:    {base}/staff/outbox/ (no EMAIL_HOST: mail is kept here)\n"
        )
        self.stdout.write(
            "\nMolar demo is ready.\n"
            f"  Staff app:       {base}/staff/login/\n"
            f"  Patient portal:  {base}/portal/\n"
            f"  API:             {base}/api/v1/openapi.json\n"
            f"  Front desk:      frontdesk / {front}\n"
            f"  Administrator:   admin / {admin}\n"
            f"{mail}"
            "These passwords are new each time the demo starts. Press Ctrl-C to stop.\n"
        )
        if no_serve:
            return
        worker = [sys.executable, "-m", "molar.cli", "worker", "--scan-every", "30"]
        self._run([granian_args("127.0.0.1", port, 1), worker])

    def _run(self, commands: list[list[str]]) -> None:
        sys.stdout.flush()
        children = [subprocess.Popen(argv) for argv in commands]  # noqa: S603
        try:
            while all(child.poll() is None for child in children):
                try:
                    children[0].wait(timeout=1)
                except subprocess.TimeoutExpired:
                    continue
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                child.wait(timeout=10)
        codes = [child.returncode for child in children]
        if any(code not in (0, -signal.SIGTERM, None) for code in codes):
            raise CommandError(f"A demo process stopped with status {codes}.")
