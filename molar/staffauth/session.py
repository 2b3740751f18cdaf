"""Staff session limits (SPEC K1, L5): the idle limit is the session's own
expiry (SESSION_IDLE_SECONDS, renewed by molar/session_activity.py); the
absolute limit (PORTAL_SESSION_MAX_SECONDS, the same 12 hours as the
portal's) is checked here on every request. Each end is audited with the
client address: sign-out by the view, the absolute limit here, the idle
limit by the worker's job below, which finds the expired session rows."""

import datetime
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone

from molar.audit.context import ClientRequest, RequestContext, current

from .services import staff_signed_out

STARTED_KEY = "_staff_started"
ADDRESS_KEY = "_staff_address"
USERNAME_KEY = "_staff_username"
USER_KEY = "_auth_user_id"  # django.contrib.auth's


def staff_session_start(request: ClientRequest, user: AbstractBaseUser) -> None:
    request.session[STARTED_KEY] = timezone.now().timestamp()
    request.session[ADDRESS_KEY] = request.client_ip
    request.session[USERNAME_KEY] = user.get_username()


class StaffSessionMiddleware:
    """After AuthenticationMiddleware: ends a staff session past its absolute limit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        session = request.session
        if session.get(USER_KEY) is not None:
            now = timezone.now().timestamp()
            started = session.setdefault(STARTED_KEY, now)
            if now - started > settings.PORTAL_SESSION_MAX_SECONDS:
                staff_signed_out(
                    user_id=int(session[USER_KEY]), reason="absolute", username=session.get(USERNAME_KEY, "")
                )
                logout(request)
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)


def staff_sessions_expire(*, now: datetime.datetime | None = None, batch: int = 500) -> int:
    """The worker's job: audit every expired staff session as an idle timeout
    (with the address it was used from), and delete expired sessions (what
    Django's clearsessions does). Returns how many staff sessions ended."""
    now = now or timezone.now()
    ended = 0
    with transaction.atomic():
        rows = list(
            Session.objects.filter(expire_date__lte=now)
            .select_for_update(skip_locked=True)
            .order_by("expire_date")[:batch]
        )
        for row in rows:
            data = row.get_decoded()
            if data.get(USER_KEY) is None:
                continue
            token = current.set(RequestContext(client_ip=data.get(ADDRESS_KEY)))
            try:
                staff_signed_out(
                    user_id=int(data[USER_KEY]), username=data.get(USERNAME_KEY, ""), reason="idle"
                )
            finally:
                current.reset(token)
            ended += 1
        Session.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return ended
