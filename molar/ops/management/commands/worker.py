from django.core.management.base import BaseCommand, CommandError

from molar.ops.worker import run_worker


class Command(BaseCommand):
    help = (
        "Run the background worker: heartbeat, invite scans every minute, invites and "
        "outbox emails as they come due, periodic jobs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scan-every", type=float, default=60.0, help="seconds between scans")
        parser.add_argument(
            "--idle-sleep", type=float, default=5.0, help="seconds to wait when nothing is due"
        )

    def handle(self, *args, scan_every, idle_sleep, **options):
        if scan_every <= 0 or idle_sleep <= 0:
            raise CommandError("--scan-every and --idle-sleep must be positive.")
        run_worker(scan_every=scan_every, idle_sleep=idle_sleep)
