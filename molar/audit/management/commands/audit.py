import datetime
import sys

from django.core.management.base import BaseCommand

from molar.audit.chain import chain_verify


class Command(BaseCommand):
    help = "The audit trail: `verify` checks the hash chain (SPEC T2)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("verify", help="recompute every event's hash; name the first altered one")

    def handle(self, *args, verb, **options):
        progress = None
        if options["verbosity"] > 1:
            progress = lambda n: self.stderr.write(f"{n:,} events checked…")  # noqa: E731
        result = chain_verify(progress=progress)
        if result.altered is None:
            self.stdout.write(f"OK: {result.checked} events")
            return
        row = result.altered
        when = row["created_at"].astimezone(datetime.UTC).isoformat(timespec="seconds")
        self.stdout.write(f"Altered: event {row['id']} ({when} {row['action']})")
        sys.exit(1)
