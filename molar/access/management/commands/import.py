import sys
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from molar.access.opendental import access_import_opendental
from molar.audit.services import Actor
from molar.patients.fhir_import import patients_import_fhir
from molar.patients.importing import patients_import_csv
from molar.refusal import Refused

KINDS = {
    "patients": "patients from a CSV file whose first line names the columns",
    "fhir": "patients from a FHIR R4 Bundle of Patient resources (JSON)",
    "opendental-accounts": "portal accounts exported from Open Dental's userweb table",
}
ACCOUNTS_FORMATS = (
    "FILE is either format, UTF-8, first line naming the columns. "
    "(1) Molar's CSV: PatNum,UserName,Password[,RequireUserNameChange,RequirePasswordChange,"
    "DateTimeLastLogin]. "
    "(2) A raw export of Open Dental's userweb table with its own column names (UserWebNum, FKey, "
    "FKeyType, UserName, Password, PasswordResetCode, RequireUserNameChange, DateTimeLastLogin, "
    "RequirePasswordChange), tab-separated (mysql -B, most SQL tools) or comma-separated; FKey is "
    "the PatNum, rows with FKeyType other than 1 are refused, PasswordResetCode is ignored. "
    "Password: SHA3_512$salt$hash, MD5 (bare or MD5$$), MD5_ECW$$hex, or None$$ (the username is "
    "kept with no access). RequirePasswordChange=1 makes the password one-time; "
    "RequireUserNameChange=1 offers a new username at the next sign-in. The patient is found by "
    "the PatNum a sync or an import gave it. Hashes keep working and become Argon2id at the first "
    "sign-in."
)


class Command(BaseCommand):
    help = (
        "Import records: `molar import patients FILE.csv`, `molar import fhir FILE.json`, "
        "`molar import opendental-accounts FILE` (Molar's CSV or a raw userweb export; "
        "see `molar import opendental-accounts --help`)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="kind", required=True)
        for kind, text in KINDS.items():
            description = ACCOUNTS_FORMATS if kind == "opendental-accounts" else text
            sub.add_parser(kind, help=text, description=description).add_argument(
                "file",
                help="the file to import"
                + (" (either format described above)" if kind == "opendental-accounts" else ""),
            )

    def handle(self, *args: Any, kind: str, file: str, **options: Any) -> None:
        if kind == "opendental-accounts":
            return self._accounts(file)
        if kind == "patients":
            return self._patients(patients_import_csv, file, unit="row(s)")
        return self._patients(patients_import_fhir, file, unit="entr(y/ies)")

    def _patients(self, importer: Callable[..., Any], file: str, unit: str) -> None:
        tty = sys.stdout.isatty()

        def progress(done: int) -> None:
            # SPEC X3: long operations show progress: one line, redrawn every
            # PROGRESS_ROWS (1,000) records.
            if tty:
                self.stdout.write(f"\r{done:,} processed…", ending="")
                self.stdout.flush()

        def problem(where: str, message: str) -> None:
            if tty:
                self.stdout.write("\r\x1b[K", ending="")
                self.stdout.flush()
            self.stderr.write(f"{where}: {message}")

        try:
            summary = importer(path=file, actor=Actor.cli("import"), progress=progress, on_problem=problem)
        except Refused as exc:
            raise CommandError(str(exc)) from None
        if tty:
            self.stdout.write("\r\x1b[K", ending="")
        if summary.ignored_columns:
            self.stderr.write(f"Ignored column(s): {', '.join(summary.ignored_columns)}.")
        self.stdout.write(summary.text(unit))
        if summary.bad and not summary.saved:
            raise CommandError("Nothing imported.")

    def _accounts(self, file: str) -> None:
        try:
            handle = open(file, newline="", encoding="utf-8-sig")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        with handle:
            try:
                report = access_import_opendental(lines=handle, actor=Actor.cli("import"))
            except UnicodeDecodeError:
                raise CommandError(f"{file} is not UTF-8 text.") from None
        for line, problem in report.problems:
            self.stderr.write(f"line {line}: {problem}")
        self.stdout.write(f"Imported {report.imported} account(s); {len(report.problems)} row(s) refused.")
        if report.problems and not report.imported:
            raise CommandError("No rows imported.")
