"""`/readyz`, and the answer to a transient database error (SPEC Q4): 503
with a "please try again" page, or `{"errors": [...]}` under /api/."""

import logging
import sys

from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache

from molar.transient import is_transient

from .readiness import FAIL, readiness

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
TRY_AGAIN = "The service is briefly unavailable. Please try again in a moment."


@never_cache
def readyz(request):
    report = readiness()
    return JsonResponse(report, status=503 if report["status"] == FAIL else 200)


def unavailable(request) -> HttpResponse:
    """The 503 for a transient database error. The page is plain HTML with no
    context processors: rendering it must not need the database."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"errors": [TRY_AGAIN]}, status=503)
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request):
    """handler500: errors raised outside a view (in a middleware, e.g. saving
    the session) reach Django's last resort; a transient one still gets the
    503, anything else the plain 500 page."""
    exc = sys.exc_info()[1]
    if exc is not None and is_transient(exc):
        return unavailable(request)
    return HttpResponseServerError(loader.get_template("500.html").render())
