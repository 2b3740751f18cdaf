"""Idle timeout without a database write on every request.

Django's SESSION_SAVE_EVERY_REQUEST writes the session row on each request,
which costs more than most of our pages (measured in bench/). Renewing the
expiry at most once a minute keeps the 15-minute idle timeout (SPEC L5) to
within a minute: a session ends between 14 and 15 idle minutes after the
last request, never later."""

from django.utils import timezone

SEEN_KEY = "_seen"
RENEW_AFTER_SECONDS = 60


class SessionActivityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty() or not session.session_key:
            return response
        now = timezone.now().timestamp()
        seen = session.get(SEEN_KEY, 0)
        if now - seen >= RENEW_AFTER_SECONDS or now < seen:  # (or the clock went back)
            session[SEEN_KEY] = now  # marks the session modified: saved with a new expiry
        return response
