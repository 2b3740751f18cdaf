"""Rendering portal pages: the shared context, and the list of tabs."""

from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from molar.messaging.selectors import unread_for_patient
from molar.practice.models import PracticeSettings

from .access import PortalRequest
from .page_cache import page_render

# SPEC L7: the tabs, in order, with the names patients see; each is the name
# of its URL ("portal:<tab>") and of its PracticeSettings switch ("show_<tab>").
TABS = [
    ("appointments", _("Appointments")),
    ("account", _("Account")),
    ("treatment_plan", _("Treatment Plan")),
    ("messages", _("Messages")),
    ("health_summary", _("Health Summary")),
    ("documents", _("Documents")),
]


def portal_render(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """Every portal page: the practice, and for a signed-in person the account,
    the family they may switch between and whose data is shown."""
    base = {"practice": getattr(request, "portal_practice", None) or PracticeSettings.cached()}
    if hasattr(request, "portal_account"):
        base["account"] = request.portal_account
    if hasattr(request, "portal_subject"):
        practice = base["practice"]
        base.update(
            family=cast(PortalRequest, request).portal_family,
            subject=request.portal_subject,
            tabs=[(t, label) for t, label in TABS if practice.tab_enabled(t)],
        )
        # SPEC V2: the Messages tab shows how many answers are unread (one query).
        if practice.tab_enabled("messages"):
            base["unread"] = unread_for_patient(request.portal_subject)
    context = {**base, **(context or {})}
    page = page_render(request, template, context) if status == 200 else None
    return page or render(request, template, context, status=status)
