import ipaddress
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from molar.access import services
from molar.access.models import PortalAccount
from molar.access.throttle import clear_username_locks, lock_state, unlock_address
from molar.audit.services import Actor
from molar.patients.models import Patient
from molar.patients.selectors import patient_find
from molar.refusal import Refused

READ_FROM_STDIN = "-"  # `--password -`: keeps the password out of ps and shell history


class Command(BaseCommand):
    help = (
        "Patient portal access: show, provide, remove, new-password, print, unlock, "
        "clear-factors, unlock-address."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        unblock = sub.add_parser("unlock-address", help="lift a sign-in block on a client address")
        unblock.add_argument("address")
        for verb, text in (
            ("show", "show the account (never the password)"),
            ("provide", "provide access; prints the one-time password"),
            ("remove", "remove access"),
            ("new-password", "generate a new one-time password"),
            ("print", "write the credentials letter as PDF"),
            ("unlock", "lift the sign-in lock on the patient's username"),
            ("clear-factors", "remove the patient's second factors and recovery codes"),
        ):
            cmd = sub.add_parser(verb, help=text)
            cmd.add_argument("patient_id", type=int)
            if verb == "print":
                cmd.add_argument(
                    "--password",
                    required=True,
                    help="the one-time password on record; '-' reads it "
                    "from standard input (keeps it out of ps and history)",
                )
                cmd.add_argument("--output", "-o", required=True, help="PDF file to write")

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        actor = Actor.cli()
        if verb == "unlock-address":
            return self._unlock_address(options["address"], actor)
        patient_id = options["patient_id"]
        patient = patient_find(patient_id)
        if patient is None:
            raise CommandError(f"No patient with id {patient_id}.")
        try:
            if verb == "show":
                self._show(patient)
            elif verb == "provide":
                creds = services.access_provide(patient=patient, actor=actor, source="cli")
                self.stdout.write(
                    f"Username: {creds.username}\nPassword: {creds.password}\n"
                    f"Website: {creds.patient_facing_url}"
                )
            elif verb == "remove":
                services.access_remove(patient=patient, actor=actor)
                self.stdout.write(f"Online access removed for patient {patient_id}.")
            elif verb == "new-password":
                password = services.access_generate_password(patient=patient, actor=actor)
                self.stdout.write(f"Password: {password}")
            elif verb == "unlock":
                self._unlock(patient, actor)
            elif verb == "clear-factors":
                count = services.access_clear_factors(patient=patient, actor=actor)
                self.stdout.write(f"Cleared {count} second factor(s) of patient {patient_id}.")
            else:
                self._print(patient, actor, options["password"], Path(options["output"]))
        except Refused as exc:
            raise CommandError(str(exc)) from None

    def _unlock(self, patient: Patient, actor: Actor) -> None:
        """SPEC K8: the username lock (and the 100-failure lock), without a new password."""
        with transaction.atomic():
            account = PortalAccount.objects.select_for_update().filter(patient=patient).first()
            if account is None or not lock_state(account).locked:
                self.stdout.write(f"Patient {patient.pk}'s sign-in is not locked.")
                return
            clear_username_locks(account, actor)
            account.save(update_fields=["failed_attempts", "hard_locked_at"])
        self.stdout.write(f"Sign-in for patient {patient.pk} unlocked.")

    def _unlock_address(self, address: str, actor: Actor) -> None:
        try:
            address = str(ipaddress.ip_address(address.strip()))
        except ValueError:
            raise CommandError(f"{address} is not an IP address.") from None
        with transaction.atomic():
            lifted = unlock_address(address, actor)
        self.stdout.write(f"Address {address} {'unblocked' if lifted else 'was not blocked'}.")

    def _show(self, patient: Patient) -> None:
        account = PortalAccount.objects.filter(patient=patient).first()
        if account is None:
            self.stdout.write(f"Patient {patient.pk}: no portal account.")
            return
        self.stdout.write(
            f"Patient {patient.pk}: username {account.username}, "
            f"{'online' if account.has_access else 'no access'}, "
            f"require password change {'yes' if account.require_password_change else 'no'}, "
            f"last sign-in {account.last_login or 'never'}"
        )

    def _print(self, patient: Patient, actor: Actor, password: str, output: Path) -> None:
        if password == READ_FROM_STDIN:
            password = sys.stdin.readline().strip()
        pdf = services.access_printout(patient=patient, actor=actor, password=password)
        try:
            output.write_bytes(pdf)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from None
        self.stdout.write(f"Wrote {output}.")
