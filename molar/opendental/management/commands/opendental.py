import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from molar.opendental.models import SyncState
from molar.opendental.services import last_pass, opendental_sync, pass_summary
from molar.refusal import Refused

PHASE_NAMES = {
    "patients": "patients",
    "appointments": "appointments",
    "accounts": "portal accounts",
    "events": "access events",
}


class Command(BaseCommand):
    help = (
        "Read-only sync from the practice's Open Dental database (OPENDENTAL_DATABASE_URL): "
        "`molar opendental sync [--full]` runs one pass and prints what changed; "
        "`molar opendental status` prints the last pass."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sync = sub.add_parser("sync", help="run one pass now and print its counts")
        sync.add_argument(
            "--full",
            action="store_true",
            help="read every row, not only those changed since the last pass, and "
            "reconcile deletions (deleted patients archived, deleted appointments "
            "removed)",
        )
        sub.add_parser("status", help="the last pass, its counts, problems and username clashes")

    def handle(self, *args, action, **options):
        if action == "status":
            return self._status()
        return self._sync(options["full"])

    def _sync(self, full: bool) -> None:
        tty = sys.stdout.isatty()

        def progress(phase: str, done: int) -> None:
            if tty and phase in PHASE_NAMES and done % 10_000 < 2000:
                self.stdout.write(f"\r\x1b[K{PHASE_NAMES[phase]}: {done:,} read…", ending="")
                self.stdout.flush()

        try:
            record = opendental_sync(full=full, progress=progress)
        except Refused as exc:
            if tty:
                self.stdout.write("\r\x1b[K", ending="")
            raise CommandError(str(exc)) from None
        if tty:
            self.stdout.write("\r\x1b[K", ending="")
        self.stdout.write(pass_summary(record))
        if not record.total_changes:
            self.stdout.write("No changes.")
        self._lists(record)

    def _lists(self, record) -> None:
        for clash in record.clashes or []:
            self.stdout.write(f"Username clash: {clash}")
        for problem in record.problems or []:
            self.stdout.write(f"Problem: {problem}")

    def _status(self) -> None:
        record = last_pass()
        if not settings.OPENDENTAL_DATABASE_URL:
            self.stdout.write("OPENDENTAL_DATABASE_URL is not set: the worker does not sync.")
        if record is None:
            self.stdout.write("No Open Dental sync pass has run yet.")
            return
        self.stdout.write(pass_summary(record))
        state = SyncState.objects.filter(pk=1).first()
        if state and state.since:
            self.stdout.write(
                "Next pass reads changes since "
                f"{timezone.localtime(state.since):%Y-%m-%d %H:%M:%S} (less 10 minutes)."
            )
        if state and state.checkpoint:
            self.stdout.write(f"An interrupted pass will resume at {state.checkpoint.get('phase')}.")
        self._lists(record)
