import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from molar.audit.sealing import audit_seal, backlog_warning
from molar.audit.signing import SignedHead, parse_head
from molar.audit.verify import audit_verify, latest_head


class Command(BaseCommand):
    help = (
        "The audit trail (SPEC T4, T5): `seal` seals committed events now, `checkpoint` prints "
        "the latest signed checkpoint as one JSON line to keep outside the database, `verify "
        "[--checkpoint FILE]` checks the chain and the checkpoints and names the first problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("seal", help="seal every committed event now (the worker does this continually)")
        sub.add_parser("checkpoint", help="print the latest signed checkpoint as one line of JSON")
        verify = sub.add_parser("verify", help="check the chain; `molar audit -v 2 verify` shows progress")
        verify.add_argument(
            "--checkpoint",
            metavar="FILE",
            help="a line printed earlier by `molar audit checkpoint` to check against",
        )

    def handle(self, *args: Any, verb: str, verbosity: int, **options: Any) -> None:
        getattr(self, f"_{verb}")(verbosity=verbosity, **options)

    def _seal(self, **options: Any) -> None:
        result = audit_seal(max_batches=10_000)
        if result.busy:
            self.stdout.write("Another sealer is running; nothing done.")
        else:
            self.stdout.write(f"Sealed {result.sealed} event(s).")

    def _checkpoint(self, **options: Any) -> None:
        head = latest_head()
        if head is None:
            raise CommandError("No checkpoint yet: nothing has been sealed (run `molar audit seal`).")
        self.stdout.write(head.as_json())

    def _verify(self, *, verbosity: int, checkpoint: str | None, **options: Any) -> None:
        external = self._read_checkpoint(checkpoint) if checkpoint else None
        result = audit_verify(external=external, progress=self._progress if verbosity > 1 else None)
        warning = backlog_warning()
        if warning:
            self.stderr.write(f"Warning: {warning}")
        if not result.ok:
            self.stdout.write(result.problem)
            sys.exit(1)
        self.stdout.write(f"OK: {result.checked} sealed events")

    def _read_checkpoint(self, path: str) -> SignedHead:
        try:
            text = Path(path).read_text().strip().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
        try:
            return parse_head(text[-1] if text else "")
        except ValueError as exc:
            raise CommandError(f"{path}: {exc}") from None

    def _progress(self, checked: int) -> None:
        self.stderr.write(f"{checked:,} events checked…")
