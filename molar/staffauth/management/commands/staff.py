import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from molar.access.throttle import unlock_staff
from molar.audit.services import Actor
from molar.refusal import Refused
from molar.staffauth.accounts import (
    staff_add,
    staff_clear_factors,
    staff_list,
    staff_set_active,
)


class Command(BaseCommand):
    help = (
        "Staff accounts: `molar staff add NAME [--admin]` prints a new password; "
        "list, disable, enable, unlock, clear-factors."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        add = sub.add_parser("add", help="create a staff user (or reset their password)")
        add.add_argument("name")
        add.add_argument(
            "--admin", action="store_true", help="also manages practice settings and invite rules"
        )
        sub.add_parser("list", help="every staff user: role, enabled, second factors, last sign-in")
        for verb, text in (
            ("disable", "stop a user signing in; ends their sessions and API keys"),
            ("enable", "let a disabled user sign in again"),
            ("unlock", "lift a sign-in lock on the username"),
            ("clear-factors", "remove the user's second factors and recovery codes"),
        ):
            sub.add_parser(verb, help=text).add_argument("name")

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        actor = Actor.cli()
        if verb == "list":
            return self._list()
        name = options["name"].strip()
        if not name or len(name) > 150:
            raise CommandError("NAME must be 1 to 150 characters.")
        try:
            if verb == "add":
                password = staff_add(username=name, admin=options["admin"], actor=actor)
                self.stdout.write(f"Staff user {name} password: {password}")
            elif verb in ("disable", "enable"):
                staff_set_active(username=name, active=verb == "enable", actor=actor)
                self.stdout.write(f"Staff user {name} {verb}d.")
            elif verb == "unlock":
                with transaction.atomic():
                    lifted = unlock_staff(name, actor)
                self.stdout.write(f"Sign-in for {name} unlocked." if lifted else f"{name} was not locked.")
            else:
                count = staff_clear_factors(username=name, actor=actor)
                self.stdout.write(
                    f"Cleared {count} second factor(s) of {name}; they enroll again at their next sign-in."
                )
        except Refused as exc:
            raise CommandError(str(exc)) from None

    def _list(self) -> None:
        for row in staff_list():
            last = (
                f"{timezone.localtime(row.last_login):%Y-%m-%d %H:%M}"
                if isinstance(row.last_login, datetime.datetime)
                else "never"
            )
            self.stdout.write(
                f"{row.username}\t{'administrator' if row.admin else 'front desk'}\t"
                f"{'enabled' if row.active else 'disabled'}\t"
                f"{row.second_factors} second factor(s)\tlast sign-in {last}"
            )
