from django.core.management.base import BaseCommand, CommandError

from molar.audit.services import Actor
from molar.practice.staff import staff_add


class Command(BaseCommand):
    help = "Staff accounts: `molar staff add NAME [--admin]` prints a new password."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        add = sub.add_parser("add", help="create a staff user (or reset their password)")
        add.add_argument("name")
        add.add_argument("--admin", action="store_true",
                         help="also manages practice settings and invite rules")

    def handle(self, *args, verb, name, admin, **options):
        name = name.strip()
        if not name or len(name) > 150:
            raise CommandError("NAME must be 1 to 150 characters.")
        password = staff_add(username=name, admin=admin, actor=Actor.system("cli"))
        self.stdout.write(f"Staff user {name} password: {password}")
