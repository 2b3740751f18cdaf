from django.core.management.base import BaseCommand, CommandError

from molar.access.opendental import access_import_opendental
from molar.audit.services import Actor


class Command(BaseCommand):
    help = "Import records: `molar import opendental-accounts FILE.csv`."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="kind", required=True)
        od = sub.add_parser("opendental-accounts",
                            help="portal accounts exported from Open Dental's userweb table")
        od.add_argument("file")

    def handle(self, *args, kind, file, **options):
        try:
            handle = open(file, newline="", encoding="utf-8-sig")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        with handle:
            try:
                report = access_import_opendental(lines=handle, actor=Actor.system("import"))
            except UnicodeDecodeError:
                raise CommandError(f"{file} is not UTF-8 text.") from None
        for line, problem in report.problems:
            self.stderr.write(f"line {line}: {problem}")
        self.stdout.write(f"Imported {report.imported} account(s); "
                          f"{len(report.problems)} row(s) refused.")
        if report.problems and not report.imported:
            raise CommandError("No rows imported.")
