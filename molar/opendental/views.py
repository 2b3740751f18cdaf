from django.conf import settings
from django.shortcuts import render

from molar.audit.permissions import VIEW_OPENDENTAL_SYNC, staff_view

from .models import SyncPass, SyncState
from .reader import SourceError, parse_url
from .services import pass_summary

RECENT = 20


@staff_view(VIEW_OPENDENTAL_SYNC)
def status(request):
    """SPEC O1: the last pass, its counts, problems and username clashes."""
    passes = list(SyncPass.objects.order_by("-started_at", "-id")[:RECENT])
    source = ""
    if settings.OPENDENTAL_DATABASE_URL:
        try:
            source = parse_url(settings.OPENDENTAL_DATABASE_URL).where  # never the password
        except SourceError as exc:
            source = str(exc)
    return render(
        request,
        "opendental/status.html",
        {
            "last": passes[0] if passes else None,
            "summary": pass_summary(passes[0]) if passes else "",
            "passes": passes,
            "state": SyncState.objects.filter(pk=1).first(),
            "source": source,
            "every": settings.OPENDENTAL_SYNC_SECONDS,
        },
    )
