from django.http import HttpRequest

from molar.practice.models import PracticeSettings


def _two_factor_off() -> str:
    practice = PracticeSettings.cached()
    if not practice.require_staff_two_factor and not practice.require_admin_two_factor:
        return "staff and administrators"
    if not practice.require_admin_two_factor:
        return "administrators"
    return ""


def two_factor_banner(request: HttpRequest) -> dict:
    """SPEC K2: staff pages say when two-factor sign-in is not required (the
    demo turns it off). A callable, so only pages that show it read it."""
    return {"two_factor_off": _two_factor_off}
