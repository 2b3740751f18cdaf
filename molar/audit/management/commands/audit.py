import datetime
import sys

from django.core.management.base import BaseCommand

from molar.audit.chain import chain_verify


class Command(BaseCommand):
    help = "The audit trail: `verify` checks the hash chain (SPEC T2)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("verify", help="recompute every event's hash and name the first altered one "
                                      "(`molar audit -v 2 verify` shows progress)")

    def handle(self, *args, verb, verbosity, **options):
        result = chain_verify(progress=self._progress if verbosity > 1 else None)
        if result.altered is None:
            self.stdout.write(f"OK: {result.checked} events")
            return
        row = result.altered
        when = row["created_at"].astimezone(datetime.UTC).isoformat(timespec="seconds")
        self.stdout.write(f"Altered: event {row['id']} ({when} {row['action']})")
        sys.exit(1)

    def _progress(self, checked: int) -> None:
        self.stderr.write(f"{checked:,} events checked…")
