"""The `molar` command: Django's management commands with Molar's settings.

`molar demo`, `molar serve`, `molar staff`, `molar apikey`, `molar access`
live in the apps' management/commands folders; `molar check --deploy`,
`molar migrate` and the rest are Django's own."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "molar.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
