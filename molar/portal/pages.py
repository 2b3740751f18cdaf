"""Rendering portal pages: the shared context, and the list of tabs."""

from django.shortcuts import render

from molar.practice.models import PracticeSettings

# SPEC L7: the tabs, in order, with the names patients see; each is the name
# of its URL ("portal:<tab>") and of its PracticeSettings switch ("show_<tab>").
TABS = [
    ("appointments", "Appointments"),
    ("account", "Account"),
    ("treatment_plan", "Treatment Plan"),
    ("messages", "Messages"),
    ("health_summary", "Health Summary"),
    ("documents", "Documents"),
]


def portal_render(request, template, context=None, status=200):
    """Every portal page: the practice, and for a signed-in person the account,
    the family they may switch between and whose data is shown."""
    base = {"practice": getattr(request, "portal_practice", None) or PracticeSettings.cached()}
    if hasattr(request, "portal_account"):
        base["account"] = request.portal_account
    if hasattr(request, "portal_subject"):
        base.update(family=request.portal_family, subject=request.portal_subject,
                    tabs=[(t, label) for t, label in TABS if base["practice"].tab_enabled(t)])
    return render(request, template, {**base, **(context or {})}, status=status)
