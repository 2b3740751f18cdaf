import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from molar.api.keys import apikey_create, apikey_list, apikey_revoke
from molar.audit.services import Actor
from molar.refusal import Refused


def _when(value: datetime.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "never"


class Command(BaseCommand):
    help = (
        "API keys: `molar apikey create NAME` prints a new key that acts for the "
        "staff user NAME, with that user's permissions; `list`; `revoke PREFIX`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="make a key for staff user NAME")
        create.add_argument("name", help="the staff user the key acts for")
        create.add_argument("--label", default="", help="what the key is for")
        sub.add_parser("list", help="every key: prefix, label, user, created, last used, revoked")
        revoke = sub.add_parser("revoke", help="stop the key with this prefix working, at once")
        revoke.add_argument("prefix", help="the part after molar_ (as `list` shows it)")

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        if verb == "list":
            for key in apikey_list():
                state = f"revoked {_when(key.revoked_at)}" if key.revoked_at else "active"
                self.stdout.write(
                    f"{key.prefix}\t{key.name}\t{key.user.get_username()}\t"
                    f"created {_when(key.created_at)}\tlast used {_when(key.last_used_at)}\t"
                    f"{state}"
                )
        elif verb == "revoke":
            prefix = options["prefix"].strip().removeprefix("molar_").split("_")[0]
            try:
                apikey_revoke(prefix=prefix, actor=Actor.cli())
            except Refused as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"API key {prefix} revoked.")
        else:
            self._create(options["name"], options["label"])

    def _create(self, name: str, label: str) -> None:
        user = get_user_model().objects.filter(username=name, is_active=True).first()
        if user is None:
            raise CommandError(f"No active staff user {name}; create one with `molar staff add {name}`.")
        self.stdout.write(apikey_create(user=user, name=label or name, actor=Actor.cli()))
