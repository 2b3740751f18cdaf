"""Idle timeout without a database write on every request.

Django's SESSION_SAVE_EVERY_REQUEST writes the session row on each request,
which costs more than most of our pages (measured in bench/). Renewing the
expiry at most once a minute keeps the 15-minute idle timeout (SPEC L5) to
within a minute: a session ends between 14 and 15 idle minutes after the
last request, never later."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY as STAFF_USER_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.views.decorators.http import require_http_methods

SEEN_KEY = "_seen"
PORTAL_ACCOUNT_KEY = "_portal_account"  # molar.portal.session.ACCOUNT_KEY
RENEW_AFTER_SECONDS = 60


class SessionActivityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # (A session just given a new key at sign-in has no key until the
        # response saves it: is_empty() is False for it, and it is renewed.)
        if session is None or session.is_empty():
            return response
        if getattr(request, "session_not_renewed", False):  # a page asking how long is left
            return response
        now = timezone.now().timestamp()
        seen = session.get(SEEN_KEY, 0)
        if now - seen >= RENEW_AFTER_SECONDS or now < seen:  # (or the clock went back)
            session[SEEN_KEY] = now  # marks the session modified: saved with a new expiry
        return response


def _expires_in(session: SessionBase, now: float) -> int:
    """Seconds until this session's idle limit, counting the renewal the
    middleware is about to make for the current request."""
    seen = session.get(SEEN_KEY, 0)
    renewed = now if now - seen >= RENEW_AFTER_SECONDS or now < seen else seen
    return max(0, int(renewed + settings.SESSION_COOKIE_AGE - now))


def session_timeout(request: HttpRequest) -> dict:
    """SPEC V4: what the page's timeout dialog needs (molar/static/molar/session.js)."""
    session = getattr(request, "session", None)
    if session is None or session.is_empty():
        return {}
    return {
        "session_expires_in": _expires_in(session, timezone.now().timestamp()),
        "session_warning_seconds": settings.SESSION_WARNING_SECONDS,
    }


@require_http_methods(["GET", "POST"])
def keepalive(request: HttpRequest) -> JsonResponse:
    """ "Stay signed in" (SPEC V4, WCAG 2.2.1): POST renews the idle limit now.
    GET only says how long is left, without renewing: a page about to sign
    out asks first, as another tab may have kept the session alive. A
    session that already ended stays ended (401): this never signs anyone in."""
    session = request.session
    # Signed in to the portal or the staff pages? (is_empty() is False for an
    # expired session whose cookie is still sent, so look at what it holds.)
    if not (session.get(PORTAL_ACCOUNT_KEY) or session.get(STAFF_USER_KEY)):
        return JsonResponse({"expires_in": 0}, status=401)
    if request.method == "GET":
        request.session_not_renewed = True  # type: ignore[attr-defined]  # read back with getattr above
        now = timezone.now().timestamp()
        left = max(0, int(session.get(SEEN_KEY, now) + settings.SESSION_COOKIE_AGE - now))
        return JsonResponse({"expires_in": left}, status=200 if left else 401)
    session[SEEN_KEY] = timezone.now().timestamp()  # saved with a new expiry
    return JsonResponse({"expires_in": settings.SESSION_COOKIE_AGE})
