"""Access helpers for portal pages: `portal_view` puts the signed-in account on
the request or sends the visitor away. While the account still has a
one-time password the session is restricted (SPEC L2): pages redirect to the
set-password page, JSON routes answer 403, and no health data is sent."""

from functools import wraps

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache

from .session import portal_session_account


def portal_view(*, restricted: bool = False, json: bool = False):
    def decorator(view):
        @wraps(view)
        @never_cache
        def wrapper(request, *args, **kwargs):
            account = portal_session_account(request)
            if account is None:
                if json:
                    return JsonResponse({"errors": ["Sign in first."]}, status=401)
                return redirect(f"{reverse('portal:sign_in')}?{urlencode({'next': request.path})}")
            if account.require_password_change and not restricted:
                if json:
                    return JsonResponse({"errors": ["Set a new password first."]}, status=403)
                return redirect("portal:new_password")
            request.portal_account = account
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
