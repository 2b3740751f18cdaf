from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from molar.api.keys import apikey_create
from molar.audit.services import Actor


class Command(BaseCommand):
    help = ("API keys: `molar apikey create NAME` prints a new key that acts for the "
            "staff user NAME, with that user's permissions.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="make a key for staff user NAME")
        create.add_argument("name", help="the staff user the key acts for")
        create.add_argument("--label", default="", help="what the key is for")

    def handle(self, *args, verb, name, label, **options):
        user = get_user_model().objects.filter(username=name, is_active=True).first()
        if user is None:
            raise CommandError(
                f"No active staff user {name}; create one with `molar staff add {name}`."
            )
        self.stdout.write(apikey_create(user=user, name=label or name, actor=Actor.system("cli")))
