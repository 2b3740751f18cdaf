import datetime
import io
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from molar.audit.services import Actor
from molar.invites.bulk import (
    Criteria,
    bulk_grant,
    bulk_invite,
    bulk_plan,
    bulk_progress,
    bulk_window_refusal,
)
from molar.invites.delivery import invites_send_due
from molar.invites.letterfile import LettersFile, LettersFileError
from molar.invites.models import BulkRun, InviteRule
from molar.leases import worker_name
from molar.refusal import Refused


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Bulk: `molar bulk invite|grant --from D --to D [--no-access-only] [--rule ID] "
        "[--dry-run] [-o letters.pdf]`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["invite", "grant"])
        parser.add_argument("--from", dest="start", required=True, help="first appointment day")
        parser.add_argument("--to", dest="end", required=True, help="last appointment day")
        parser.add_argument("--no-access-only", action="store_true")
        parser.add_argument("--rule", type=int, help="invite rule whose email text to send")
        parser.add_argument("--dry-run", action="store_true", help="list who would be skipped, and why")
        parser.add_argument("--output", "-o", help="letters PDF to write (grant)")

    def handle(
        self,
        *args: Any,
        action: str,
        start: str,
        end: str,
        no_access_only: bool,
        rule: int | None,
        dry_run: bool,
        output: str | None,
        **options: Any,
    ) -> None:
        criteria = Criteria(_date(start), _date(end), no_access_only)
        refusal = bulk_window_refusal(
            criteria.start, criteria.end, reversed_text="--to is before --from.", most_days=None
        )
        if refusal:
            raise CommandError(refusal)
        template = self._rule(action, rule)
        if dry_run:
            return self._dry_run(action, criteria, template)
        if action == "grant":
            return self._grant(criteria, output)
        assert template is not None  # _rule refuses an invite without its rule
        run = bulk_invite(criteria=criteria, rule=template, actor=Actor.cli())
        self.stdout.write(f"Bulk run {run.pk}: {run.total} invite(s) recorded; sending.")
        invites_send_due(worker=worker_name(), progress=lambda s: self._bar(s.processed, run.total))
        counts = bulk_progress(run)
        self.stdout.write(
            f"\nSent {counts['sent']}, skipped {counts['skipped']}, "
            f"failed {counts['failed']}, waiting {counts['queued']}."
        )

    def _rule(self, action: str, rule_id: int | None) -> InviteRule | None:
        if action != BulkRun.Action.INVITE:
            return None
        if rule_id is None:
            raise CommandError("--rule is required for invite: the rule whose email text to send.")
        rule = InviteRule.objects.filter(pk=rule_id).first()
        if rule is None:
            raise CommandError(f"No invite rule {rule_id}.")
        return rule

    def _dry_run(self, action: str, criteria: Criteria, rule: InviteRule | None) -> None:
        rows = bulk_plan(action=action, criteria=criteria, rule=rule)
        for row in rows:
            result = f"skipped: {row.reason}" if row.reason else "will be processed"
            self.stdout.write(f"{row.patient.pk}\t{row.patient}\t{result}")
        ready = sum(1 for row in rows if not row.reason)
        self.stdout.write(f"{ready} of {len(rows)} patient(s) would be processed.")

    def _grant(self, criteria: Criteria, output: str | None) -> None:
        if not output:
            raise CommandError("--output FILE.pdf is required for grant: the letters.")
        try:
            letters = LettersFile(output)  # SPEC I7: refused before anyone is granted
        except LettersFileError as exc:
            raise CommandError(str(exc)) from None
        with letters:
            buffer = io.BytesIO()
            try:
                summary = bulk_grant(criteria=criteria, actor=Actor.cli(), target=buffer, progress=self._bar)
            except Refused as exc:
                raise CommandError(str(exc)) from None
            letters.write(buffer.getvalue())
        for row in summary.skipped:
            self.stderr.write(f"{row.patient.pk}\t{row.patient}\tskipped: {row.reason}")
        reissued = (
            f" ({summary.reissued} owed by an earlier run, with new passwords)" if summary.reissued else ""
        )
        self.stdout.write(
            f"\nGranted {summary.granted}{reissued}; skipped {len(summary.skipped)}. "
            f"{summary.letters} letter(s) in {letters.target}."
        )

    def _bar(self, done: int, total: int) -> None:
        if not sys.stdout.isatty() or not total:
            return
        width = 30
        filled = int(width * min(done, total) / total)
        self.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending="")
        self.stdout.flush()
