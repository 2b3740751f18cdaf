import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from molar.invites.delivery import invites_recover, invites_scan, invites_send_due
from molar.leases import worker_name
from molar.outbox.sending import SendSummary


class Command(BaseCommand):
    help = "Invites: `molar invites run` scans once, sends what is due, and exits."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("run", help="scan once, send what is due, exit")

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        created = invites_scan()
        invites_recover()
        show = sys.stdout.isatty()

        def progress(summary: SendSummary) -> None:
            if show:
                self.stdout.write(f"\rprocessed {summary.processed}", ending="")
                self.stdout.flush()

        summary = invites_send_due(worker=worker_name(), progress=progress)
        if show:
            self.stdout.write("")
        self.stdout.write(
            f"{created} new invite(s) due; sent {summary.sent} in {summary.emails} email(s), "
            f"skipped {summary.skipped}, retrying {summary.retried}, failed {summary.failed}."
        )
